"""Fuzzing the API from its own OpenAPI document (schemathesis), on SQLite and PostgreSQL
(docs/reliability.md#fuzzing).  CI runs the short form; ``make fuzz`` the long one.

Business errors travel as HTTP 200 envelopes, so HTTP status alone would hide a server error: every
answer is also checked for an envelope ``statusCode`` of 500 or more.  The requests carry a real
management token, so they reach the handlers rather than stop at authentication.  Each operation's
cases are drawn by Hypothesis from schemathesis's strategy for it (``derandomize``: the same cases
every run, so a failure reproduces)."""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import schemathesis

from tests.compat.support import LiveServer

EXAMPLES = int(os.environ.get("TWOFOLD_FUZZ_EXAMPLES", "25"))  # per operation; `make fuzz` raises it


def server_errors(response: Any) -> str | None:
    """What makes an answer a server error: HTTP 5xx, or an envelope statusCode >= 500."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("statusCode"), int) and body["statusCode"] >= 500:
        return f"envelope statusCode {body['statusCode']}: {body.get('message')}"
    return None


def test_no_server_errors_and_answers_as_documented(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json")
    headers = {"authorization": f"Bearer {live_server.management_token()}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    sent = 0

    def fuzz(operation: Any) -> None:
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal sent
            response = case.call(headers=headers)
            sent += 1
            problem = server_errors(response)
            if problem is None:
                try:
                    operation.validate_response(response)
                except Exception as exc:  # noqa: BLE001 - every kind of mismatch is a finding
                    problem = f"answer not as documented: {str(exc)[:300]}"
            if problem:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r:.200}: {problem}")

        run()

    for operation in operations:
        fuzz(operation)
    print(f"{sent} requests over {len(operations)} operations, {len(failures)} findings")  # docs/reliability.md
    assert failures == []
