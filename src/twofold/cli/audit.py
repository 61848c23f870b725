"""``twofold audit``: the audit trail of the local database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from twofold.cli.output import JsonOption
from twofold.cli.runtime import console, err_console, print_json, run_local

if TYPE_CHECKING:
    from twofold.config import Settings
    from twofold.services.audit_chain import Anchor, ChainReport
    from twofold.services.container import Services

app = typer.Typer(help="Read the audit trail and verify its hash chain.", no_args_is_help=True)


@app.command("list")
def list_events(
    user: Annotated[str | None, typer.Option(help="Only events about this user id.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. mfa.status.set.")] = None,
    pool: Annotated[str | None, typer.Option(help="User pool id (default: the default pool).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many events.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Audit events, newest first (secrets are redacted when recorded)."""

    async def action_(services: Services, settings: Settings) -> None:
        pool_id = pool or (await services.keys.ensure_default_pool())[0].id
        events = await services.audit.list_events(pool_id, user, action, None, limit)
        if as_json:
            print_json([e.__dict__ for e in events])
            return
        table = Table("time (UTC)", "action", "user", "actor", "request id", "change")
        for e in events:
            when = datetime.fromtimestamp(e.at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            change = orjson.dumps(e.after).decode()[:80] if e.after is not None else ""
            table.add_row(when, e.action, e.target_user_id or "", e.actor, e.request_id, change)
        console.print(table)

    run_local(action_)


@app.command("verify")
def verify(
    pool: Annotated[str | None, typer.Option(help="Only this user pool id (default: every pool).")] = None,
    no_seal: Annotated[
        bool, typer.Option("--no-seal", help="Do not seal pending events first (only read the database).")
    ] = False,
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:MAC from a seal's log line (`sealed to chain_seq SEQ, mac MAC`), with --pool: the chain"
            " must still hold that event (shows a shortened chain with an old head put back)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check each pool's audit chain: exit 0 when intact, 1 naming the first bad event otherwise.

    By default the events not sealed yet are sealed first (as a running server does every second)."""

    anchored = _anchor(anchor, pool)

    async def action_(services: Services, settings: Settings) -> list[ChainReport]:
        if not no_seal:
            await services.audit_chain.seal(pool)
        return await services.audit_chain.verify(pool, anchored)

    reports = run_local(action_)
    if as_json:
        print_json(
            [
                {
                    "userPoolId": r.pool_id,
                    "intact": r.intact,
                    "verified": r.verified,
                    "pending": r.pending,
                    "tampering": None
                    if r.tampering is None
                    else {
                        "eventId": r.tampering.event_id,
                        "chainSeq": r.tampering.chain_seq,
                        "reason": r.tampering.reason,
                    },
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            (console if r.intact else err_console).print(r.describe(), highlight=False, soft_wrap=True)
        if not reports:
            console.print("no audit events yet")
    if not all(r.intact for r in reports):
        raise typer.Exit(1)


def _anchor(text: str | None, pool: str | None) -> Anchor | None:
    from twofold.services.audit_chain import Anchor

    if text is None:
        return None
    if pool is None:
        raise typer.BadParameter("an anchor is of one pool: give --pool too", param_hint="--anchor")
    seq, _, mac = text.strip().partition(":")
    if not seq.isdigit() or int(seq) < 1 or not re.fullmatch(r"[0-9a-f]{64}", mac.lower()):
        raise typer.BadParameter("SEQ:MAC, e.g. 42:<64 hex digits>", param_hint="--anchor")
    return Anchor(int(seq), mac.lower())
