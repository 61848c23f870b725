"""``twofold users``: the user directory of a running server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from twofold.cli.connection import ConnectionOptions, call, fail, guess_id_type
from twofold.cli.output import IdTypeOption, JsonOption, show, show_rows
from twofold.cli.runtime import console, print_json
from twofold.cli.user_import import (
    CSV_FIELDS_HELP,
    ImportReport,
    ImportState,
    RowError,
    import_users,
    read_rows,
)

app = typer.Typer(help="Create, find, change, delete and import users.", no_args_is_help=True)

COLUMNS = ("userId", "username", "email", "phone", "externalId", "status")


def _options(ctx: typer.Context) -> ConnectionOptions:
    options: ConnectionOptions = ctx.obj
    return options


@app.command()
def create(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option(help="Username (unique).")] = None,
    email: Annotated[str | None, typer.Option(help="Email (unique, case-insensitive).")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number (unique).")] = None,
    phone_country_code: Annotated[str | None, typer.Option(help="e.g. +1; default +86.")] = None,
    external_id: Annotated[str | None, typer.Option(help="Id in another system (unique).")] = None,
    name: Annotated[str | None, typer.Option(help="Real name.")] = None,
    nickname: Annotated[str | None, typer.Option(help="Nickname.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user (give at least one of --username, --email, --phone)."""
    fields: dict[str, Any] = {
        k: v
        for k, v in {
            "username": username,
            "email": email,
            "phone": phone,
            "phone_country_code": phone_country_code,
            "external_id": external_id,
            "name": name,
            "nickname": nickname,
        }.items()
        if v is not None
    }
    user = call(_options(ctx), lambda c: c.create_user(**fields))
    show(user, as_json, "created user")


@app.command()
def get(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    id_type: IdTypeOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Show one user."""
    found = call(
        _options(ctx),
        lambda c: c.get_user(user, guess_id_type(user, id_type), with_identities=True, with_custom_data=True),
    )
    show(found, as_json)


@app.command("list")
def list_users(
    ctx: typer.Context,
    keywords: Annotated[
        str | None, typer.Option("--search", help="Fuzzy search over phone, email, name, username, nickname.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only this status, e.g. Suspended.")] = None,
    mfa: Annotated[bool | None, typer.Option("--mfa/--no-mfa", help="Only users with / without MFA.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 20,
    as_json: JsonOption = False,
) -> None:
    """List users, newest first."""
    filters: list[dict[str, Any]] = []
    if status:
        filters.append({"field": "status", "operator": "EQUAL", "value": status})
    if mfa is not None:
        filters.append({"field": "mfaEnabled", "operator": "EQUAL", "value": mfa})
    result = call(
        _options(ctx),
        lambda c: c.list_users(
            keywords, filters or None, None, {"pagination": {"page": page, "limit": limit}}
        ),
    )
    show_rows(result.list, COLUMNS, as_json, total=result.total_count)


@app.command()
def update(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    id_type: IdTypeOption = "auto",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="FIELD=VALUE with the wire name, e.g. --set nickname=Al --set status=Suspended."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a user's attributes."""
    fields: dict[str, Any] = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--set takes FIELD=VALUE, not {item!r}")
        fields[key.strip()] = value
    if not fields:
        fail("nothing to change: give at least one --set FIELD=VALUE")
    updated = call(
        _options(ctx),
        lambda c: c.update_user(user, options={"userIdType": guess_id_type(user, id_type)}, **_snake(fields)),
    )
    show(updated, as_json, "updated user")


def _snake(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in fields.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        out[snake] = value
    return out


@app.command()
def delete(
    ctx: typer.Context,
    users: Annotated[list[str], typer.Argument(help="One or more users (all of the same --id-type).")],
    id_type: IdTypeOption = "auto",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete users (all or none)."""
    kind = guess_id_type(users[0], id_type)
    if not yes:
        typer.confirm(f"Delete {len(users)} user(s)?", abort=True)
    call(_options(ctx), lambda c: c.delete_users_batch(users, {"userIdType": kind}))
    console.print(f"deleted {len(users)} user(s)")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help=f"CSV with a header row, or JSON Lines. Columns: {CSV_FIELDS_HELP}.",
        ),
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Users per request.")] = 500,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted import of this file.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import users with optional TOTP secrets and MFA status; each row is imported whole or not at all."""
    try:
        rows, failures = read_rows(file, fmt)
    except (RowError, OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    state = ImportState(file)
    start = state.load() if resume else 0
    report = ImportReport(total=len(rows), failures=[f for f in failures if f.line >= start])
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=as_json) as progress:
        task = progress.add_task("import", total=len(rows))
        call(
            _options(ctx),
            lambda c: import_users(
                c, rows, state, batch_size, resume, report, lambda n: progress.advance(task, n)
            ),
        )
    if not report.failures:
        state.clear()
    _report(report, as_json)
    if report.failures:
        raise typer.Exit(2)


def _report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "total": report.total,
                "created": report.created,
                "skippedExisting": report.skipped_existing,
                "failed": [
                    {"line": f.line, "message": f.message, "apiCode": f.api_code} for f in report.failures
                ],
            }
        )
        return
    console.print(
        f"created {report.created} user(s); {len(report.failures)} row(s) failed"
        + (f"; {report.skipped_existing} already existed" if report.skipped_existing else "")
    )
    if report.failures:
        table = Table("line", "error")
        for failure in report.failures[:100]:
            table.add_row(str(failure.line), failure.message)
        console.print(table)
        if len(report.failures) > 100:
            console.print(f"... and {len(report.failures) - 100} more (use --json for all)")
