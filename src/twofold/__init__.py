"""Twofold: self-hosted MFA management, wire-compatible with the GenAuth management API."""

__version__ = "0.1.0"
