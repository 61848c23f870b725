"""``twofold apps``: applications and their MFA factors on a running server."""

from __future__ import annotations

from typing import Annotated

import typer

from twofold.cli.connection import call
from twofold.cli.output import JsonOption, show, show_rows

app = typer.Typer(help="Create and list applications; switch their MFA factors.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Application name.")],
    identifier: Annotated[str | None, typer.Option(help="Unique slug.")] = None,
    app_type: Annotated[str, typer.Option("--type", help="web, spa, native, api, mfa, ...")] = "web",
    as_json: JsonOption = False,
) -> None:
    """Create an application; prints its appSecret, which is shown this once."""
    created = call(
        ctx.obj, lambda c: c.create_application(name, app_identifier=identifier, app_type=app_type)
    )
    show(created, as_json, "created application (appSecret is shown once: keep it now)")


@app.command("rotate-secret")
def rotate_secret(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="Application id.")],
    as_json: JsonOption = False,
) -> None:
    """Give an application a new appSecret (shown once); the old one stops working at once."""
    secret = call(ctx.obj, lambda c: c.rotate_application_secret(app_id))
    show({"appId": app_id, "appSecret": secret}, as_json, "new application secret (shown once)")


@app.command()
def get(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="Application id.")],
    as_json: JsonOption = False,
) -> None:
    """Show an application."""
    show(call(ctx.obj, lambda c: c.get_application(app_id)), as_json)


@app.command("list")
def list_apps(
    ctx: typer.Context,
    keywords: Annotated[str | None, typer.Option("--search")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    limit: Annotated[int, typer.Option(min=1, max=50)] = 20,
    as_json: JsonOption = False,
) -> None:
    """List applications."""
    result = call(ctx.obj, lambda c: c.list_applications(page=page, limit=limit, keywords=keywords))
    show_rows(
        result.list, ("appId", "appName", "appIdentifier", "appType"), as_json, total=result.total_count
    )


@app.command()
def mfa(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="Application id.")],
    enable: Annotated[
        list[str] | None, typer.Option("--enable", help="Factor to switch on (repeatable).")
    ] = None,
    disable: Annotated[list[str] | None, typer.Option("--disable", help="Factor to switch off.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Switch an application's MFA factors (OTP, SMS, EMAIL, FACE); prints the result."""
    result = call(
        ctx.obj, lambda c: c.update_application_mfa_settings(app_id, enable or None, disable or None)
    )
    show(result, as_json, f"MFA factors of {app_id}")
