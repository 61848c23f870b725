"""``twofold audit verify``: its exit codes and its messages, on both databases."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.integration.test_cli import cli_env, run  # noqa: F401 - cli_env is a fixture used below
from twofold.config import Settings
from twofold.services.container import build_services
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories.audit import AuditRow


def on_database(settings: Settings, statement: str | None = None, events: int = 0) -> str:
    """Write ``events`` audit events of the default pool, or run ``statement``; the pool id."""

    async def main() -> str:
        services = await build_services(settings)
        try:
            pool_id = (await services.keys.ensure_default_pool())[0].id
            async with services.db.transaction() as conn:
                for i in range(events):
                    row = AuditRow(
                        pool_id,
                        1_700_000_000_000 + i,
                        "key",
                        f"rid-{i}",
                        "127.0.0.1",
                        None,
                        "a.b",
                        None,
                        "{}",
                    )
                    await audit_repo.insert(conn, row)
                if statement:
                    await conn.execute(statement)
            return pool_id
        finally:
            await services.close()

    return asyncio.run(main())


def test_verify_exits_0_on_an_intact_trail_and_1_naming_the_first_bad_event(
    cli_env: dict[str, str],  # noqa: F811 - the fixture imported above
    settings: Settings,
) -> None:
    assert run("audit", "verify") == (0, "no audit events yet\n")
    pool_id = on_database(settings, events=3)

    code, out = run("audit", "verify", "--no-seal")
    assert (code, out.strip()) == (0, f"pool {pool_id}: intact, 0 sealed events verified, 3 pending")
    code, out = run("audit", "verify")  # seals first
    assert (code, out.strip()) == (0, f"pool {pool_id}: intact, 3 sealed events verified, 0 pending")

    mac = _value(settings, "SELECT mac FROM audit_events WHERE chain_seq = 3")
    assert run("audit", "verify", "--pool", pool_id, "--anchor", f"3:{mac}")[0] == 0
    code, out = run("audit", "verify", "--pool", pool_id, "--anchor", f"4:{mac}")
    assert code == 1 and "the chain ends before the anchor's chain_seq 4: events were deleted" in out
    code, out = run("audit", "verify", "--anchor", f"3:{mac}")
    assert code == 2 and "give --pool too" in out
    code, out = run("audit", "verify", "--pool", pool_id, "--anchor", "3:not-a-mac")
    assert code == 2 and "SEQ:MAC" in out

    on_database(settings, "UPDATE audit_events SET action = 'mfa.unlock' WHERE chain_seq = 2")
    code, out = run("audit", "verify", "--pool", pool_id)
    event_id = _value(settings, "SELECT id FROM audit_events WHERE chain_seq = 2")
    assert code == 1
    assert out.strip() == (
        f"pool {pool_id}: tampered at event #{event_id} (chain_seq 2): the mac does not match (edited or reordered)"
    )
    code, out = run("audit", "verify", "--json")
    assert code == 1
    assert json.loads(out) == [
        {
            "userPoolId": pool_id,
            "intact": False,
            "verified": 1,
            "pending": 0,
            "tampering": {
                "eventId": event_id,
                "chainSeq": 2,
                "reason": "the mac does not match (edited or reordered)",
            },
        }
    ]


def _value(settings: Settings, query: str) -> Any:
    async def main() -> Any:
        services = await build_services(settings)
        try:
            async with services.db.read() as conn:
                return await conn.fetch_value(query)
        finally:
            await services.close()

    return asyncio.run(main())
