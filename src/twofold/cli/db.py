"""``twofold db``: schema migrations."""

from __future__ import annotations

import typer

from twofold.cli.runtime import console, one_line_errors

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from twofold.config import Settings
    from twofold.storage.migrate import upgrade_to_head

    settings = Settings()
    with one_line_errors():
        upgrade_to_head(settings.resolved_database_url)
    console.print("database is at the newest schema version")
