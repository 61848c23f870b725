"""Helpers the CLI commands share: settings, services on the local database, output.

The server's modules (services, storage, the master-key vault) are imported only where a command
works on the local database: the client commands (``users``, ``mfa``, ``apps``) start without them,
which is most of the start-up time of a short ``twofold users import``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
import typer
from rich.console import Console

if TYPE_CHECKING:
    from twofold.config import Settings
    from twofold.services.container import Services

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """User mistakes and startup errors (domain errors, a bad master key, an unreachable database, a
    role that may not migrate it) print one line and exit 1, never a traceback."""
    from twofold.auth.vault import MasterKeyError
    from twofold.errors import TwofoldError
    from twofold.storage.errors import MigrationRefused

    try:
        yield
    except (TwofoldError, MasterKeyError, MigrationRefused, ValueError) as exc:
        message = exc.message("en-US") if isinstance(exc, TwofoldError) else str(exc)
        reason = getattr(exc, "reason", None)  # storage errors: why the database cannot be used
        if isinstance(reason, str) and reason:
            message = f"{message} ({reason})"
        err_console.print(f"[red]error:[/red] {message}", soft_wrap=True)
        raise typer.Exit(1) from None


def run_local(action: Callable[[Services, Settings], Awaitable[T]], *, long_running: bool = False) -> T:
    """Migrate the local database, build the services, run ``action`` and close them (errors: one line).
    The startup lock is held while ``action`` runs, unless ``long_running`` (a key rotation): then only
    while the services are built, so that servers starting meanwhile are not held up."""
    from twofold.config import Settings
    from twofold.services.container import build_services
    from twofold.storage.migrate import startup_lock, upgrade_to_head

    settings = Settings()
    url = settings.resolved_database_url

    async def main() -> T:
        with startup_lock(url) if long_running else nullcontext():
            services = await build_services(settings)
        try:
            return await action(services, settings)
        finally:
            await services.close()

    with one_line_errors():
        upgrade_to_head(url)
        with nullcontext() if long_running else startup_lock(url):  # the first pool and key: one at a time
            return asyncio.run(main())


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
