"""Query strings as the GenAuth SDKs send them (docs/wire.md#rule-1, #rule-2, #rule-4, #rule-5, #rule-16).

* ``k[]=a&k[]=b``, ``k%5B%5D=a``, ``k=a&k=b`` and (for id lists) ``k=a,b`` all give a list;
* an empty value means "absent"; booleans are ``true``/``True``/``false``/``False`` (see ``Flag``);
* ``+`` is a space (Starlette form-decodes the query).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ValidationError

from twofold.api.errors import validation_error

M = TypeVar("M", bound=BaseModel)


def _is_list(annotation: Any) -> bool:
    """``list[...]``, also inside ``Optional`` and ``Annotated`` (a bounded list is still a list)."""
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(info.alias or name for name, info in model.model_fields.items() if _is_list(info.annotation))


def parse_query(model: type[M], items: list[tuple[str, str]]) -> M:
    lists = _list_fields(model)
    data: dict[str, Any] = {}
    bracketed: set[str] = set()
    for raw_key, value in items:
        key = raw_key[:-2] if raw_key.endswith("[]") else raw_key
        if value == "":
            continue
        if key in lists:
            data.setdefault(key, []).append(value)
            if key != raw_key:
                bracketed.add(key)
        else:
            data[key] = value
    for key in lists & data.keys():
        values = data[key]
        if len(values) == 1 and key not in bracketed:  # a lone "a,b" (Python str, C# SDK) is a list too
            data[key] = [v for v in values[0].split(",") if v]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors()[0]) from None


def query(model: type[M]) -> Callable[[Request], Coroutine[Any, Any, M]]:
    """A FastAPI dependency that parses the query string into ``model``."""

    async def dependency(request: Request) -> M:
        return parse_query(
            model, parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
        )

    dependency.parses_input = True  # type: ignore[attr-defined]  # runs after authentication (api/routing.py)
    dependency.query_model = model  # type: ignore[attr-defined]  # what a route reads (tests walk it)
    return dependency
