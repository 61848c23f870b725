"""``twofold keys``: access keys of the local database, and the data keys of its secrets at rest."""

from __future__ import annotations

import asyncio
import time
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

app = typer.Typer(help="Create, list and revoke access keys; rotate the master (data) key.", no_args_is_help=True)


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


# ------------------------------------------------------------------------ the master (data) key
MAX_PASSES = 5


@app.command("master-status")
def master_status(as_json: JsonOption = False) -> None:
    """List the data keys of the keyring, their state, and how many ciphertexts each one protects."""

    async def action(services: Services, settings: Settings) -> None:
        keys = await services.key_rotation.status()
        if as_json:
            print_json([{"id": k.id, "state": k.state, "createdAt": k.created_at, "retiredAt": k.retired_at,
                         "ciphertexts": k.total, "byColumn": k.uses} for k in keys])
            return
        table = Table("data key", "state", "created", "retired", "ciphertexts", "where")
        for k in keys:
            where = ", ".join(f"{name} {n}" for name, n in sorted(k.uses.items()))
            table.add_row(k.id, k.state, _when(k.created_at), _when(k.retired_at), str(k.total), where)
        console.print(table)

    run_local(action)


@app.command("rotate-master")
def rotate_master(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Rows re-encrypted per transaction.")] = 500,
    grace: Annotated[
        float | None,
        typer.Option(help="Seconds to wait after the new key is active, so that every running process "
                     "encrypts with it (default: twice TWOFOLD_KEYRING_REFRESH_SECONDS plus 5)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rotate the data key online: a new active key, every ciphertext re-encrypted under it while the
    servers keep serving, then the old key retired.  Safe to run again after an interruption."""

    async def action(services: Services, settings: Settings) -> None:
        refresh = settings.keyring_refresh_seconds
        wait_for = 2 * refresh + 5 if grace is None else grace
        if wait_for <= refresh:
            raise ValueError(f"--grace must be longer than TWOFOLD_KEYRING_REFRESH_SECONDS ({refresh:g} s)")

        def say(text: str) -> None:
            if not as_json:
                console.print(text)

        rotation = await services.key_rotation.begin()
        old = ", ".join(rotation.old)
        if rotation.resumed:
            say(f"resuming the rotation to data key {rotation.active} (from {old}), begun {_when(rotation.started_at)}")
        else:
            say(f"data key {rotation.active} is active; {old} is kept for decryption until nothing uses it")
        pause = (rotation.started_at + wait_for * 1000 - services.key_rotation.now()) / 1000
        if pause > 0:
            say(f"waiting {pause:.1f} s for every running process to pick up {rotation.active} "
                f"(they look the keyring up every {refresh:g} s)")
            await asyncio.sleep(pause)
        totals: dict[str, list[int]] = {}
        started = time.monotonic()
        for attempt in range(1, MAX_PASSES + 1):
            for name, done in (await services.key_rotation.reencrypt(batch)).items():
                total = totals.setdefault(name, [0, 0])
                total[0] += done.rewritten
                total[1] += done.changed_meanwhile
            left = {name: n for name, n in (await services.key_rotation.remaining()).items() if n}
            if not left:
                break
            say(f"pass {attempt}: {sum(left.values())} ciphertexts still under an old key; scanning again")
        seconds = time.monotonic() - started
        for name, (rewritten, changed) in sorted(totals.items()):
            say(f"  {name}: {rewritten} re-encrypted" + (f", {changed} changed by the server meanwhile" if changed else ""))
        if left:
            raise ValueError(f"still {sum(left.values())} ciphertexts under an old key ({left}); run rotate-master again")
        retired = await services.key_rotation.retire()
        rewritten = sum(t[0] for t in totals.values())
        if as_json:
            print_json({"active": rotation.active, "retired": retired, "resumed": rotation.resumed,
                        "rewritten": {name: t[0] for name, t in totals.items()},
                        "changedMeanwhile": {name: t[1] for name, t in totals.items()}, "seconds": seconds})
            return
        say(f"{rewritten} ciphertexts re-encrypted in {seconds:.1f} s; retired: {', '.join(retired) or 'none'}")

    run_local(action, long_running=True)
