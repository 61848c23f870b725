"""``twofold outbox``: the messages of the development outbox (codes sent while no email or SMS
transport is configured), read from the local database and decrypted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from twofold.cli.output import JsonOption
from twofold.cli.runtime import console, print_json, run_local

if TYPE_CHECKING:
    from twofold.config import Settings
    from twofold.services.container import Services


def show(
    pool: Annotated[str | None, typer.Option(help="Only messages of this user pool id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many messages.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Messages of the dev outbox, newest first (the codes themselves: for development only)."""

    async def action(services: Services, settings: Settings) -> None:
        messages = await services.outbox.list_messages(pool, limit)
        if as_json:
            print_json(
                [
                    {
                        "id": m.id,
                        "userPoolId": m.pool_id,
                        "medium": m.medium,
                        "to": m.to,
                        "subject": m.subject,
                        "text": m.text,
                        "purpose": m.purpose,
                        "createdAt": m.created_at,
                    }
                    for m in messages
                ]
            )
            return
        if not messages:
            console.print("the outbox is empty")
            return
        for m in messages:  # one header line and the text: readable in a narrow terminal too
            when = datetime.fromtimestamp(m.created_at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            console.print(f"[bold]{when}[/bold]  {m.medium}  to {m.to}  {m.purpose}", highlight=False)
            console.print(f"    {m.text}", highlight=False, soft_wrap=True)

    run_local(action)
