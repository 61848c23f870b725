"""The GenAuth-compatible management API: every path lives under ``/api/v3``."""

PREFIX = "/api/v3"
