"""Concurrent set-mfa-status writers on one user: serialised, never mixed, every write audited in order.

On PostgreSQL the in-process app uses an asyncpg pool, so concurrent requests run on several connections
and the serialisation under test is the database's (the row lock), not the event loop's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import user_payload
from twofold.errors import VersionConflict
from twofold.services.container import Services

FACTORS = ("OTP", "SMS", "EMAIL", "FACE")
ECHO_FIELDS = {"version", "mfaToken", "nickname", "username", "phone", "phoneCountryCode"}
WRITERS = 50
OPTIMISTIC_WRITERS = 20


def writer_state(i: int) -> dict[str, Any]:
    """The stored document writer ``i`` asks for: distinct per writer, consistent with the rules."""
    rotation = (i // 4) % len(FACTORS)
    chosen = (FACTORS[rotation:] + FACTORS[:rotation])[: 1 + i % len(FACTORS)]
    policies = [{"mfaPolicy": f, "status": (i >> j) & 1, "sort": (j + 1) * (i + 1) % 97}
                for j, f in enumerate(chosen)]

    def switch(factor: str, fallback: bool) -> bool:
        entry = next((p for p in policies if p["mfaPolicy"] == factor), None)
        return bool(entry["status"]) if entry else fallback

    return {
        "applicationMfa": policies,
        "totpMfaEnabled": switch("OTP", i % 2 == 0),
        "faceMfaEnabled": switch("FACE", i % 3 == 0),
        "mfaPhone": f"1390013{i:04d}" if i % 2 == 0 else None,
        "mfaPhoneCountryCode": "+86" if i % 2 == 0 else None,
        "mfaEmail": f"writer{i:02d}@example.com",
    }


def trigger_data(state: dict[str, Any], i: int) -> dict[str, Any]:
    return {"mfaToken": f"mfa-token-of-writer-{i}", **state}


def stored_document(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k not in ECHO_FIELDS}


async def status_of(api: Api, user_id: str) -> dict[str, Any]:
    return await api.ok("GET", "get-mfa-status", {"userId": user_id})


async def audit_trail(api: Api, user_id: str) -> list[dict[str, Any]]:
    """The user's mfa.status.set events, oldest first."""
    events = await api.ok("GET", "twofold/list-audit-events",
                          {"userId": user_id, "action": "mfa.status.set", "limit": 500})
    assert all(e["userId"] == user_id and e["action"] == "mfa.status.set" for e in events)
    return sorted(events, key=lambda e: e["id"])


def assert_pool_used_several_connections(services: Services) -> None:
    if services.db.dialect == "postgresql":
        assert services.db._pool.get_size() > 1  # type: ignore[attr-defined]


async def test_concurrent_writers_leave_exactly_one_submitted_state(api: Api, services: Services) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    states = [writer_state(i) for i in range(WRITERS)]
    assert len({repr(s) for s in states}) == WRITERS

    bodies = await asyncio.gather(*(
        api.post("set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger_data(s, i)})
        for i, s in enumerate(states)
    ))

    assert [b["statusCode"] for b in bodies] == [200] * WRITERS, [b for b in bodies if b["statusCode"] != 200]
    assert sorted(b["data"]["version"] for b in bodies) == list(range(1, WRITERS + 1))
    final = await status_of(api, user["userId"])
    assert final["version"] == WRITERS
    assert stored_document(final) in states
    assert_pool_used_several_connections(services)


async def test_concurrent_writes_form_one_audit_chain(api: Api) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    states = [writer_state(i) for i in range(WRITERS)]

    await asyncio.gather(*(
        api.ok("POST", "set-mfa-status", {"userId": user["userId"], "mfaTriggerData": trigger_data(s, i)})
        for i, s in enumerate(states)
    ))

    events = await audit_trail(api, user["userId"])
    assert len(events) == WRITERS
    assert events[0]["before"] is None
    for previous, event in zip(events, events[1:], strict=False):
        assert event["before"] == previous["after"], (previous["id"], event["id"])
    afters = [e["after"] for e in events]
    assert sorted(afters, key=repr) == sorted(states, key=repr)  # each writer's state, exactly once
    assert afters[-1] == stored_document(await status_of(api, user["userId"]))


@pytest.mark.parametrize("earlier_writes", [0, 3])
async def test_concurrent_writers_with_the_same_version_only_one_wins(api: Api, earlier_writes: int) -> None:
    user = await api.ok("POST", "create-user", user_payload())
    for i in range(earlier_writes):
        await api.ok("POST", "set-mfa-status", {"userId": user["userId"],
                                                "mfaTriggerData": trigger_data(writer_state(100 + i), i)})
    current = (await status_of(api, user["userId"]))["version"]
    assert current == earlier_writes
    states = [writer_state(i) for i in range(OPTIMISTIC_WRITERS)]

    bodies = await asyncio.gather(*(
        api.post("set-mfa-status", {"userId": user["userId"], "version": current,
                                    "mfaTriggerData": trigger_data(s, i)})
        for i, s in enumerate(states)
    ))

    codes = [b["statusCode"] for b in bodies]
    assert sorted(codes) == [200] + [409] * (OPTIMISTIC_WRITERS - 1), codes
    assert {b["apiCode"] for b in bodies if b["statusCode"] == 409} == {VersionConflict.api_code}
    winner = codes.index(200)
    assert bodies[winner]["data"]["version"] == current + 1
    final = await status_of(api, user["userId"])
    assert final["version"] == current + 1
    assert stored_document(final) == states[winner]
    events = await audit_trail(api, user["userId"])
    assert len(events) == earlier_writes + 1 and events[-1]["after"] == states[winner]
