"""``twofold audit``: the audit trail of the local database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from twofold.cli.output import JsonOption
from twofold.cli.runtime import console, print_json, run_local

if TYPE_CHECKING:
    from twofold.config import Settings
    from twofold.services.container import Services

app = typer.Typer(help="Read the audit trail.", no_args_is_help=True)


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
