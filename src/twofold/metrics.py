"""Prometheus metrics (prometheus-client): what an operator graphs and alerts on (docs/operations.md).

Neutral ground, like ``request_context``: the HTTP middleware counts requests, the services count MFA
verifications, lockouts and codes sent, and ``/metrics`` exposes them.  No label carries a user, an
address or a code: labels are routes, factors, channels, pools and outcomes, so their number is bounded.

Several worker processes: when ``PROMETHEUS_MULTIPROC_DIR`` names a directory before this module is
imported (``twofold serve`` sets one for ``--workers`` > 1), each process writes its samples there and
``exposition`` sums them, so any worker answers for all of them.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"  # a path no route serves: one label, whatever was asked

REQUESTS = Counter(
    "twofold_http_requests",
    "HTTP requests by route template, method and envelope statusCode (the HTTP status without an envelope).",
    ["route", "method", "status_code"],
)
LATENCY = Histogram(
    "twofold_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# The labelled children of the two request metrics, looked up once per label set: ``labels()`` takes a
# lock and validates the labels on every call.  The label sets are few (route templates, methods, codes).
_request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status_code: str, seconds: float) -> None:
    """Count one answered request and its latency (``REQUESTS`` and ``LATENCY``)."""
    key = (route, method, status_code)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = (REQUESTS.labels(*key), LATENCY.labels(route))
    children[0].inc()
    children[1].observe(seconds)


MFA_VERIFICATIONS = Counter(
    "twofold_mfa_verifications",
    "MFA codes checked, by factor (OTP, RECOVERY_CODE, SMS, EMAIL) and result (accepted, wrong_code, replayed, "
    "not_bound, locked).",
    ["factor", "result"],
)
LOCKOUTS = Counter("twofold_mfa_lockouts", "Times a factor locked after repeated failures.", ["factor"])
CODES_SENT = Counter(
    "twofold_codes_sent", "One-time codes sent, by channel and medium (email, sms).", ["channel", "medium"]
)
DELIVERY_FAILURES = Counter(
    "twofold_delivery_failures", "Messages a transport did not take, by medium.", ["medium"]
)
COUNTER_FALLBACKS = Counter(
    "twofold_counter_fallbacks",
    "Send-limit and throttle counts made in the database although TWOFOLD_REDIS_URL is set, by reason "
    "(redis_error: Redis failed or timed out; breaker_open: it failed recently and is not tried yet).",
    ["reason"],
)

# By pool (only the operator creates pools, so they are few); with a label, no process that never
# seals writes a sample (a counter without labels is created, and written, at import).
AUDIT_EVENTS_SEALED = Counter(
    "twofold_audit_events_sealed",
    "Audit events sealed into their pool's hash chain (services/audit_chain.py), by user pool id.",
    ["pool"],
)


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, and its content type."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
