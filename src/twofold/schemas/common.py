"""Building blocks of the wire schemas: camelCase aliases, bounded strings, tolerant booleans."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

Text = Annotated[str, StringConstraints(max_length=1000)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
EmailText = Annotated[str, StringConstraints(max_length=320)]  # RFC 5321: 64 + 1 + 255


def _bool(value: Any) -> Any:
    """Accept ``true``/``True``/``false``/``False`` (requests vs axios, docs/wire.md#rule-1); empty = absent."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        if lowered == "":
            return None
    return value


Flag = Annotated[bool | None, BeforeValidator(_bool)]


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown keys are ignored (stale SDK usages)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
