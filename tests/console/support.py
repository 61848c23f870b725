"""Test data for the console tests, set up and checked through the management API (not the console)."""

from __future__ import annotations

from typing import Any

from tests.compat.support import LiveServer, new_person, ok_data

XSS_NICKNAME = "<script>alert(1)</script>"


def create_user(server: LiveServer, **extra: Any) -> dict[str, Any]:
    person = new_person("console")
    body = {
        "email": person["email"],
        "username": person["username"],
        "phone": person["phone"],
        "externalId": person["externalId"],
        **extra,
    }
    user: dict[str, Any] = ok_data(server.call("POST", "create-user", json=body))
    return user


def mfa_status(server: LiveServer, user_id: str) -> dict[str, Any]:
    status: dict[str, Any] = ok_data(server.call("GET", "get-mfa-status", params={"userId": user_id}))
    return status


def audit_actions(server: LiveServer, user_id: str) -> list[tuple[str, str]]:
    """(action, actor) of the user's audit events, newest first, read through the management API."""
    data = ok_data(server.call("GET", "twofold/list-audit-events", params={"userId": user_id}))
    return [(e["action"], e["actor"]) for e in data]
