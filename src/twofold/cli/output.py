"""Rendering results for people (Rich) or scripts (``--json``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import orjson
import typer
from pydantic import BaseModel
from rich.table import Table

from twofold.cli.runtime import console, print_json

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
IdTypeOption = Annotated[
    str,
    typer.Option(
        "--id-type",
        help="How USER is read: auto (email if it has @, user id if 24 hex digits, else username), "
        "user_id, username, email, phone, external_id, identity, sync_relation.",
    ),
]


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    return value


def show(value: Any, as_json: bool, title: str | None = None) -> None:
    """One record as JSON, or as a two-column table of its non-empty fields."""
    data = dump(value)
    if as_json:
        print_json(data)
        return
    table = Table("field", "value", title=title, show_header=False)
    for key, item in (data or {}).items():
        if item in (None, "", [], {}):
            continue
        text = item if isinstance(item, str) else _compact(item)
        table.add_row(key, text)
    console.print(table)


def show_rows(
    rows: Iterable[Any],
    columns: Sequence[str],
    as_json: bool,
    title: str | None = None,
    total: int | None = None,
) -> None:
    data = [dump(r) for r in rows]
    if as_json:
        print_json(data if total is None else {"list": data, "totalCount": total})
        return
    table = Table(*columns, title=title)
    for item in data:
        table.add_row(*[_cell(item.get(c)) for c in columns])
    console.print(table)
    if total is not None:
        console.print(f"{len(data)} of {total}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _compact(value)


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()
