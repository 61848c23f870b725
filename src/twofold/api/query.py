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


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        origins = {typing.get_origin(a) for a in typing.get_args(annotation)} | {
            typing.get_origin(annotation)
        }
        if list in origins:
            names.add(info.alias or name)
    return frozenset(names)


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
    return dependency
