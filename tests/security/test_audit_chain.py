"""The audit trail's hash chain (services/audit_chain.py), on SQLite and PostgreSQL.

Concurrent writers through the app and two sealers racing leave one contiguous, verifiable chain per
pool.  Then each way of tampering with a sealed trail, done with raw SQL on the database, is found by
the verifier, which names the first bad event; and it stays found after the sealer runs again over
new events, so that sealing never covers up what was done.  docs/reliability.md#audit-chain lists
the cases and what the chain cannot show.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.conftest import Api
from tests.factories import SEED_MFA_TRIGGER_DATA, user_payload
from twofold.auth.vault import derive_key, load_master_key
from twofold.config import Settings
from twofold.services.audit_chain import Anchor, AuditChain, ChainReport, canonical
from twofold.services.container import Services
from twofold.storage.database import open_database
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories.audit import AuditRow

Row = dict[str, Any]
WRITERS = 8
WRITES_EACH = 10


async def set_mfa_status(api: Api, user_id: str, i: int) -> None:
    data = await api.ok(
        "POST",
        "set-mfa-status",
        {
            "userId": user_id,
            "mfaTriggerData": {**SEED_MFA_TRIGGER_DATA, "mfaEmail": f"writer{i}@example.com"},
        },
    )
    assert data is not None


async def sql(services: Services, statement: str, params: dict[str, Any] | None = None) -> None:
    async with services.db.transaction() as conn:
        await conn.execute(statement, params)


async def chain_rows(services: Services) -> list[Row]:
    async with services.db.read() as conn:
        rows = await conn.fetch_all("SELECT * FROM audit_events ORDER BY chain_seq")
    return [dict(r) for r in rows]


async def only_report(chain: AuditChain) -> ChainReport:
    reports = await chain.verify()
    assert len(reports) == 1, reports
    return reports[0]


async def test_concurrent_writers_and_two_racing_sealers_make_one_contiguous_chain(
    api: Api, services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twofold.audit")
    pool = {"pool": (await services.keys.ensure_default_pool())[0].id}
    counted_before = REGISTRY.get_sample_value("twofold_audit_events_sealed_total", pool) or 0.0
    users = await asyncio.gather(*(api.ok("POST", "create-user", user_payload()) for _ in range(WRITERS)))
    # A second sealer on connections of its own: on SQLite it contends for the file's write lock, on
    # PostgreSQL for the pool's advisory lock, as another server process would.
    other_db = await open_database(settings.resolved_database_url)
    other = AuditChain(other_db, derive_key(load_master_key(settings), "twofold/audit-chain/v1"))
    done = asyncio.Event()
    sealed = {"first": 0, "second": 0}

    async def keep_sealing(name: str, chain: AuditChain) -> None:
        while not done.is_set():
            sealed[name] += await chain.seal()
            await asyncio.sleep(0.001)

    sealers = [
        asyncio.create_task(keep_sealing("first", services.audit_chain)),
        asyncio.create_task(keep_sealing("second", other)),
    ]
    try:
        await asyncio.gather(*(
            set_mfa_status(api, u["userId"], w * WRITES_EACH + i) for i in range(WRITES_EACH) for w, u in enumerate(users)
        ))  # fmt: skip
    finally:
        done.set()
        await asyncio.gather(*sealers)
        sealed["first"] += await services.audit_chain.seal()
        await other_db.close()

    rows = await chain_rows(services)
    assert len(rows) >= WRITERS * (WRITES_EACH + 1)
    assert [r["chain_seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert sealed["first"] + sealed["second"] == len(rows)  # each event sealed once, by one of them
    assert REGISTRY.get_sample_value("twofold_audit_events_sealed_total", pool) == counted_before + len(rows)
    anchors = [r.getMessage() for r in caplog.records if r.name == "twofold.audit" and r.levelname == "INFO"]
    assert (
        anchors[-1]
        == f"audit chain of pool {rows[-1]['pool_id']} sealed to chain_seq {len(rows)}, mac {rows[-1]['mac']}"
    )
    report = await only_report(services.audit_chain)
    assert report.intact, report.describe()
    assert (report.verified, report.pending) == (len(rows), 0)
    # The same trail under another key (someone holding only the database) does not verify.
    stranger = await only_report(AuditChain(services.db, b"k" * 32))
    assert stranger.tampering is not None and stranger.tampering.chain_seq == 1


async def test_an_event_committed_after_a_later_one_is_sealed_in_the_next_batch(services: Services) -> None:
    if services.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: events commit in the order of their ids")
    pool_id = (await services.keys.ensure_default_pool())[0].id

    def event(action: str) -> AuditRow:
        return AuditRow(pool_id, 1, "actor", "rid", "127.0.0.1", None, action, None, None)

    async with services.db.transaction() as slow:
        await audit_repo.insert(slow, event("slow"))  # takes the lower id, commits last
        async with services.db.transaction() as fast:
            await audit_repo.insert(fast, event("fast"))
        assert await services.audit_chain.seal() == 1
    assert await services.audit_chain.seal() == 1
    rows = await chain_rows(services)
    assert [(r["action"], r["chain_seq"]) for r in rows] == [("fast", 1), ("slow", 2)]
    assert rows[0]["id"] > rows[1]["id"]
    assert (await only_report(services.audit_chain)).intact


# ------------------------------------------------------------------------------------ tampering
# Each case: the statements that tamper with a sealed trail of N events (``rows`` in chain order, row
# k - 1 at chain_seq k), and the chain_seq and reason the verifier must name.
Statements = list[tuple[str, dict[str, Any]]]
Case = Callable[[list[Row]], tuple[Statements, int, str]]
MISMATCH = "the mac does not match"


def middle(rows: list[Row]) -> Row:
    return rows[len(rows) // 2]


def edit(column: str, value: Callable[[Row], Any]) -> Case:
    def case(rows: list[Row]) -> tuple[Statements, int, str]:
        row = middle(rows)
        return (
            [(f"UPDATE audit_events SET {column} = :v WHERE id = :id", {"v": value(row), "id": row["id"]})],
            row["chain_seq"],
            MISMATCH,
        )

    return case


def swap_seq(rows: list[Row]) -> tuple[Statements, int, str]:
    a, b = middle(rows), rows[len(rows) // 2 + 1]
    move = "UPDATE audit_events SET chain_seq = :seq WHERE id = :id"
    return (
        [
            (move, {"seq": -1, "id": a["id"]}),
            (move, {"seq": a["chain_seq"], "id": b["id"]}),
            (move, {"seq": b["chain_seq"], "id": a["id"]}),
        ],
        a["chain_seq"],
        MISMATCH,
    )


CONTENT_COLUMNS = ("at", "actor", "request_id", "client_ip", "target_user_id", "action", "before", "after")


def swap_contents(rows: list[Row]) -> tuple[Statements, int, str]:
    a, b = middle(rows), rows[len(rows) // 2 + 1]
    assignments = ", ".join(f"{c} = :{c}" for c in CONTENT_COLUMNS)
    put = f"UPDATE audit_events SET {assignments} WHERE id = :id"
    return (
        [
            (put, {**{c: b[c] for c in CONTENT_COLUMNS}, "id": a["id"]}),
            (put, {**{c: a[c] for c in CONTENT_COLUMNS}, "id": b["id"]}),
        ],
        a["chain_seq"],
        MISMATCH,
    )


def delete_middle(rows: list[Row]) -> tuple[Statements, int, str]:
    row = middle(rows)
    return (
        [("DELETE FROM audit_events WHERE id = :id", {"id": row["id"]})],
        row["chain_seq"] + 1,
        "is missing",
    )


def delete_last(rows: list[Row]) -> tuple[Statements, int, str]:
    return (
        [("DELETE FROM audit_events WHERE id = :id", {"id": rows[-1]["id"]})],
        len(rows) - 1,
        "were deleted",
    )


def forge_sealed_row(rows: list[Row]) -> tuple[Statements, int, str]:
    """A new event at the end of the chain, with a mac made the right way but with the wrong key."""
    last = rows[-1]
    forged = {**last, "id": last["id"] + 1000, "chain_seq": len(rows) + 1, "action": "mfa.unlock"}
    forged["mac"] = hmac.new(
        b"guessed", b"event\x00" + canonical(forged) + last["mac"].encode(), hashlib.sha256
    ).hexdigest()
    columns = ", ".join(forged)
    return (
        [
            (f"INSERT INTO audit_events ({columns}) VALUES ({', '.join(f':{c}' for c in forged)})", forged),
            (
                "UPDATE audit_chain_heads SET seq = :seq, mac = :mac",
                {"seq": forged["chain_seq"], "mac": forged["mac"]},
            ),
        ],
        len(rows) + 1,
        MISMATCH,
    )


def rewind_head(rows: list[Row]) -> tuple[Statements, int, str]:
    before_last = rows[-2]
    return (
        [
            (
                "UPDATE audit_chain_heads SET seq = :seq, mac = :mac",
                {"seq": before_last["chain_seq"], "mac": before_last["mac"]},
            )
        ],
        len(rows),
        "does not verify",
    )


def delete_last_and_rewind_head(rows: list[Row]) -> tuple[Statements, int, str]:
    statements, seq, _ = delete_last(rows)
    return statements + rewind_head(rows)[0], seq, "does not verify"


def delete_head(rows: list[Row]) -> tuple[Statements, int, str]:
    return [("DELETE FROM audit_chain_heads", {})], len(rows), "head is missing"


def unseal_last_and_edit(rows: list[Row]) -> tuple[Statements, int, str]:
    """Unseal the last event and change it, for the sealer to seal the new content."""
    return (
        [
            (
                "UPDATE audit_events SET chain_seq = NULL, mac = NULL, after = :after WHERE id = :id",
                {"after": '{"forged":true}', "id": rows[-1]["id"]},
            )
        ],
        len(rows) - 1,
        "were deleted",
    )


CASES: dict[str, Case] = {
    "edit after": edit("after", lambda r: '{"totpMfaEnabled":false}'),
    "edit before": edit("before", lambda r: None),
    "edit action": edit("action", lambda r: "mfa.unlock"),
    "edit at": edit("at", lambda r: r["at"] + 1),
    "edit actor": edit("actor", lambda r: "someone-else"),
    "edit target user": edit("target_user_id", lambda r: "0" * 24),
    "edit id": edit("id", lambda r: r["id"] + 1000),
    "edit mac": edit("mac", lambda r: hashlib.sha256(b"made up").hexdigest()),
    "reorder (swap chain_seq)": swap_seq,
    "swap contents of two rows": swap_contents,
    "delete a middle event": delete_middle,
    "delete the last event": delete_last,
    "insert a forged sealed row": forge_sealed_row,
    "rewind the head": rewind_head,
    "delete the last event and rewind the head": delete_last_and_rewind_head,
    "delete the head": delete_head,
    "unseal the last event and edit it": unseal_last_and_edit,
}


@pytest.fixture
async def sealed_trail(api: Api, services: Services) -> list[Row]:
    user = await api.ok("POST", "create-user", user_payload())
    for i in range(9):
        await set_mfa_status(api, user["userId"], i)
    assert await services.audit_chain.seal() == 10
    report = await only_report(services.audit_chain)
    assert report.intact and report.verified == 10, report.describe()
    return await chain_rows(services)


@pytest.mark.parametrize("name", CASES)
async def test_tampering_is_detected_at_the_first_bad_event(
    name: str, sealed_trail: list[Row], api: Api, services: Services
) -> None:
    statements, seq, reason = CASES[name](sealed_trail)
    for statement, params in statements:
        await sql(services, statement, params)

    report = await only_report(services.audit_chain)
    assert report.tampering is not None, f"{name}: not detected"
    assert (report.tampering.chain_seq, reason in report.tampering.reason) == (seq, True), report.describe()
    now_at_seq = [r["id"] for r in await chain_rows(services) if r["chain_seq"] == seq]
    assert [report.tampering.event_id] == now_at_seq, report.describe()
    assert f"tampered at event #{now_at_seq[0]} (chain_seq {seq})" in report.describe()

    # New events, sealed afterwards (as the server's loop would), do not cover it up.
    user = await api.ok("POST", "create-user", user_payload())
    await set_mfa_status(api, user["userId"], 99)
    await services.audit_chain.seal()
    assert not (await only_report(services.audit_chain)).intact, f"{name}: covered up by sealing"


async def test_a_chain_whose_head_does_not_verify_is_not_sealed_further(
    sealed_trail: list[Row], api: Api, services: Services
) -> None:
    statements, _, _ = rewind_head(sealed_trail)
    for statement, params in statements:
        await sql(services, statement, params)
    user = await api.ok("POST", "create-user", user_payload())
    assert user["userId"]
    assert await services.audit_chain.seal() == 0
    report = await only_report(services.audit_chain)
    assert report.pending == 1 and report.tampering is not None


async def test_an_old_head_put_back_over_deleted_events_needs_the_logged_anchor(
    sealed_trail: list[Row], api: Api, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The limit of the chain alone, and its remedy: a head row copied earlier (a backup) and put back
    after deleting the events sealed since verifies; the seal's log line, kept outside the database,
    does not match it."""
    caplog.set_level(logging.INFO, logger="twofold.audit")
    async with services.db.read() as conn:
        old_head = dict(await conn.fetch_one("SELECT * FROM audit_chain_heads") or {})
    await api.ok("POST", "create-user", user_payload())
    assert await services.audit_chain.seal() == 1
    logged = re.search(r"sealed to chain_seq (\d+), mac ([0-9a-f]{64})$", caplog.records[-1].getMessage())
    assert logged, caplog.records[-1].getMessage()
    anchor = Anchor(int(logged.group(1)), logged.group(2))
    pool_id = old_head["pool_id"]
    assert (await services.audit_chain.verify(pool_id, anchor))[0].intact
    wrong = Anchor(anchor.seq, hashlib.sha256(b"another").hexdigest())
    (report,) = await services.audit_chain.verify(pool_id, wrong)
    assert report.tampering is not None and "not the event anchored" in report.tampering.reason

    await sql(services, "DELETE FROM audit_events WHERE chain_seq = :seq", {"seq": anchor.seq})
    await sql(
        services,
        "UPDATE audit_chain_heads SET seq = :seq, mac = :mac, sealed_at = :sealed_at, head_mac = :head_mac",
        {k: old_head[k] for k in ("seq", "mac", "sealed_at", "head_mac")},
    )
    assert (await only_report(services.audit_chain)).intact  # the chain alone cannot tell
    (report,) = await services.audit_chain.verify(pool_id, anchor)
    assert report.tampering is not None, report.describe()
    assert (report.tampering.chain_seq, report.tampering.event_id) == (
        len(sealed_trail),
        sealed_trail[-1]["id"],
    )
    assert "ends before the anchor's chain_seq 11" in report.tampering.reason
