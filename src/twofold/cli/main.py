"""The ``twofold`` command."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import TYPE_CHECKING, Annotated

import typer

from twofold.cli import apps, audit, db, keys, mfa, outbox, users
from twofold.cli.connection import ConnectionOptions
from twofold.cli.output import JsonOption
from twofold.cli.runtime import console, one_line_errors, print_json, run_local

if TYPE_CHECKING:  # the server's modules load in the commands that use them (cli/runtime.py)
    from twofold.config import Settings
    from twofold.services.container import Services

app = typer.Typer(no_args_is_help=True)
app.add_typer(keys.app, name="keys")
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="users")
app.add_typer(mfa.app, name="mfa")
app.add_typer(apps.app, name="apps")
app.command("outbox")(outbox.show)


@app.callback()
def connection(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            "--host", envvar="TWOFOLD_HOST", help="Server URL for users/mfa/apps, e.g. http://127.0.0.1:8080."
        ),
    ] = None,
    access_key_id: Annotated[
        str | None, typer.Option(envvar="TWOFOLD_ACCESS_KEY_ID", help="Access key id.")
    ] = None,
    access_key_secret: Annotated[
        str | None,
        typer.Option(
            envvar="TWOFOLD_ACCESS_KEY_SECRET", help="Access key secret (prefer the env var or a profile)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Section of ~/.config/twofold/profiles.toml (TWOFOLD_PROFILE_FILE) holding host and key."
        ),
    ] = None,
    signed: Annotated[
        bool, typer.Option("--signed", help="Sign each request (HMAC) instead of using a token.")
    ] = False,
) -> None:
    """Twofold: self-hosted MFA management (GenAuth-compatible API).

    `serve`, `init`, `keys`, `db`, `audit` and `outbox` work on the local database (TWOFOLD_DATABASE_URL);
    `users`, `mfa` and `apps` talk to a running server (--host / TWOFOLD_HOST, an access key).
    """
    ctx.obj = ConnectionOptions(
        host, access_key_id, access_key_secret, profile, "signature" if signed else "token"
    )


def _show_first_key(created: tuple[str, str, str] | None, as_json: bool) -> None:
    if created is None:
        return
    pool_id, key_id, secret = created
    if as_json:
        print_json({"userPoolId": pool_id, "accessKeyId": key_id, "accessKeySecret": secret})
        return
    console.print("[bold]Created the default user pool and a first access key:[/bold]")
    console.print(f"  user pool id:      {pool_id}")
    console.print(f"  access key id:     {key_id}")
    console.print(f"  access key secret: {secret}")
    console.print("[yellow]The secret is shown only once; store it now.[/yellow]")


@app.command()
def init(as_json: JsonOption = False) -> None:
    """Create the database, the default user pool and a first access key (printed once)."""
    from twofold.services.container import bootstrap

    async def action(services: Services, settings: Settings) -> None:
        created = await bootstrap(services, settings)
        if created is None and not as_json:
            console.print("already initialised (keys exist); use `twofold keys create` for another key")
        elif created is None:
            print_json({})
        _show_first_key(created, as_json)

    run_local(action)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TWOFOLD_BIND_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TWOFOLD_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (TWOFOLD_WORKERS).")] = None,
) -> None:
    """Migrate the database and run the API server."""
    from twofold import metrics
    from twofold.cli import serving
    from twofold.config import Settings
    from twofold.logs import configure_logging
    from twofold.services.container import bootstrap
    from twofold.transports import describe_delivery, refuse_outbox_in_production

    with one_line_errors():
        refuse_outbox_in_production(Settings())

    async def action(services: Services, settings: Settings) -> None:
        _show_first_key(await bootstrap(services, settings), as_json=False)
        console.print(describe_delivery(settings))
        bound = host or settings.bind_host
        shown = "127.0.0.1" if bound in ("0.0.0.0", "::", "") else bound  # noqa: S104 - an address to show
        url = f"http://{shown}:{port or settings.port}/console/"
        console.print(f"[bold]Admin console:[/bold] {url} (sign in with an access key)", soft_wrap=True)

    run_local(action)
    # The app (in each worker) reads its settings from the environment: let it know where it is bound,
    # which the default token issuer (docs/signin.md) is made of.
    os.environ.update({k: str(v) for k, v in {"TWOFOLD_BIND_HOST": host, "TWOFOLD_PORT": port}.items() if v})
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("twofold").info(
        "serving on http://%s:%s", host or settings.bind_host, port or settings.port
    )
    if (workers or settings.workers) > 1 and not os.environ.get(metrics.MULTIPROCESS_ENV):
        # Each worker writes its metrics here and /metrics sums them (twofold/metrics.py); a fresh
        # directory per start, as prometheus-client requires.
        os.environ[metrics.MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="twofold-metrics-")
    serving.run(
        "twofold.api.asgi:app",
        host=host or settings.bind_host,
        port=port or settings.port,
        workers=workers or settings.workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_timeout_seconds,
        http="twofold.api.edge:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=settings.max_connections,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # X-Forwarded-For is the app's own: TWOFOLD_FORWARDED_ALLOW_IPS (api/proxy.py)
    )
