"""``twofold keys``: access keys of the local database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from twofold.cli.output import JsonOption
from twofold.cli.runtime import console, print_json, run_local
from twofold.services.context import OTP_SECRET_READ

if TYPE_CHECKING:
    from twofold.config import Settings
    from twofold.services.container import Services

app = typer.Typer(help="Create, list and revoke access keys.", no_args_is_help=True)


def _when(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command("create")
def create(
    description: Annotated[str, typer.Option(help="What the key is for.")] = "",
    pool: Annotated[str | None, typer.Option(help="User pool id (default: the default pool).")] = None,
    allow_otp_secret_read: Annotated[
        bool, typer.Option(help="Allow get-otp-secret-by-user (reads TOTP secrets; audited).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create an access key; the secret is printed once."""

    async def action(services: Services, settings: Settings) -> None:
        pool_id = pool or (await services.keys.ensure_default_pool())[0].id
        perms = [OTP_SECRET_READ] if allow_otp_secret_read else []
        key = await services.keys.create_key(pool_id, description, perms)
        if as_json:
            print_json(
                {
                    "userPoolId": key.pool_id,
                    "accessKeyId": key.id,
                    "accessKeySecret": key.secret,
                    "permissions": key.permissions,
                }
            )
        else:
            console.print(f"user pool id:      {key.pool_id}")
            console.print(f"access key id:     {key.id}")
            console.print(f"access key secret: {key.secret}")
            console.print("[yellow]The secret is shown only once.[/yellow]")

    run_local(action)


@app.command("list")
def list_keys(
    as_json: JsonOption = False,
) -> None:
    """List access keys (never their secrets)."""

    async def action(services: Services, settings: Settings) -> None:
        keys = await services.keys.list_keys()
        if as_json:
            print_json(
                [
                    {
                        "accessKeyId": k.id,
                        "userPoolId": k.pool_id,
                        "description": k.description,
                        "permissions": k.permissions,
                        "createdAt": k.created_at,
                        "revokedAt": k.revoked_at,
                    }
                    for k in keys
                ]
            )
            return
        table = Table("access key id", "user pool", "description", "permissions", "created", "revoked")
        for k in keys:
            table.add_row(
                k.id,
                k.pool_id,
                k.description,
                ", ".join(k.permissions),
                _when(k.created_at),
                _when(k.revoked_at),
            )
        console.print(table)

    run_local(action)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The access key id.")]) -> None:
    """Revoke a key; requests signed with it, and its tokens, fail at once."""

    async def action(services: Services, settings: Settings) -> None:
        await services.keys.revoke_key(key_id)
        console.print(f"revoked {key_id}")

    run_local(action)
