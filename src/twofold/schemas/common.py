"""Building blocks of the wire schemas, and the one place where the shape of input is checked.

Every request model (body or query) derives from ``WireModel``, which refuses, before any field is
read (docs/architecture.md#where-input-is-checked):

* NUL (U+0000) in any string, anywhere: typed fields, list items, and inside free-form JSON values
  (``customData``, ``userInfoInIdp``, ``templateData``, filter values...) and their keys.  PostgreSQL
  cannot store it at all, and SQLite would keep it silently.
* The other C0 controls (U+0001-U+001F) and DEL (U+007F) in *identifiers*: the fields that name,
  address or look up something, or carry wire vocabulary, or a URL (``is_identifier``).  Free text
  (names, addresses, descriptions, passwords) may hold a tab or a newline.
* Free-form JSON beyond ``MAX_JSON_DEPTH`` levels, ``MAX_JSON_NODES`` values, strings longer than
  ``LongText``, keys longer than ``ShortText``, integers outside 64 bits, non-finite numbers.
* Strings beyond their bound: ``str_max_length`` (``Text``) unless the field declares a smaller
  (or, for ``LongText``, larger) one, and lists beyond ``MAX_LIST_ITEMS`` unless they declare fewer.

Each refusal is an ordinary pydantic error whose ``loc`` ends at the field (or the list item), so it
becomes the same 400 envelope naming the parameter as any other validation error (``api/errors.py``).
"""

from __future__ import annotations

import math
import re
import typing
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from twofold.domain.user_queries import MAX_PAGE, MAX_PAGE_SIZE

SHORT_MAX, TEXT_MAX, LONG_MAX = 200, 1000, 4000
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
ShortText = Annotated[str, StringConstraints(max_length=SHORT_MAX)]
LongText = Annotated[str, StringConstraints(max_length=LONG_MAX)]
EmailText = Annotated[str, StringConstraints(max_length=320)]  # RFC 5321: 64 + 1 + 255
PhoneText = Annotated[str, StringConstraints(max_length=32)]  # the users.phone column
CountryCodeText = Annotated[str, StringConstraints(max_length=8)]  # the users.phone_country_code column
WordText = Annotated[str, StringConstraints(max_length=32)]  # wire vocabulary: types, providers, factors
# A user as ``userIdType`` reads it: an id, a contact, or "<extIdpId>:<userIdInIdp>" (200 + 1 + 300).
UserRefText = Annotated[str, StringConstraints(max_length=512)]

# Integers as the columns hold them: INTEGER (32 bits) and BIGINT (64 bits) on PostgreSQL.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=_INT64_MIN, le=_INT64_MAX)]
EpochSeconds = Annotated[int, Field(ge=_INT64_MIN // 1000 + 1, le=_INT64_MAX // 1000)]  # stored as milliseconds
StrictInt32 = Annotated[Int32, Strict()]  # no "1" for 1 (JSON bodies)
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]  # offset = (page - 1) * limit stays far inside 64 bits
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]

MAX_LIST_ITEMS = 1000
MAX_JSON_DEPTH = 10
MAX_JSON_NODES = 2000
_JSON_STRING_MAX = LONG_MAX
_JSON_KEY_MAX = SHORT_MAX
_INT64 = range(_INT64_MIN, _INT64_MAX + 1)
_CONTROLS = re.compile("[\x00-\x1f\x7f]")

# Identifiers by name (wire aliases); besides these, every ``...Id``/``...Ids`` name is one (``userId``,
# ``userIds``, ``appId``, ``extIdpId``, ``userIdInIdp``, ``userIdType``, ``originConnIds``, ``tenantIds``...).
IDENTIFIER_NAMES = frozenset(
    {
        # how a user is addressed
        "username", "email", "phone", "phoneCountryCode", "externalId",
        "mfaEmail", "mfaPhone", "mfaPhoneCountryCode",
        # other things named by a key
        "appIdentifier", "provider", "clientIp", "secret", "recoveryCode", "mfaToken",
        # wire vocabulary (enums checked by the schema or the service)
        "type", "status", "gender", "mfaPolicy", "enabledFactors", "disabledFactors", "disableFactors",
        "field", "operator", "order", "fuzzySearchOn", "action", "appType", "defaultProtocol",
        "template", "passwordEncryptType",
        # URLs (RFC 3986 has no control characters)
        "photo", "website", "appLogo", "redirectUris", "logoutRedirectUris", "initLoginUri",
    }
)  # fmt: skip
_ID_WORD = re.compile(r"(?:^id|Ids?)(?:$|[A-Z])")


def is_identifier(alias: str) -> bool:
    """Whether the field named ``alias`` on the wire refuses C0 controls (not only NUL)."""
    return alias in IDENTIFIER_NAMES or _ID_WORD.search(alias) is not None


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


def _is_free_form(annotation: Any) -> bool:
    """``Any`` or a ``dict`` anywhere in the annotation: JSON that no nested model will check."""
    if annotation is Any or typing.get_origin(annotation) is dict or annotation is dict:
        return True
    return any(_is_free_form(arg) for arg in typing.get_args(annotation))


class _Refusal(Exception):
    def __init__(self, kind: str, message: str) -> None:
        self.error = PydanticCustomError(kind, message)


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise _Refusal("string_nul", "NUL characters are not allowed")


class _JsonBudget:
    """Walks one free-form JSON value, counting what it has seen."""

    def __init__(self) -> None:
        self.nodes = 0

    def walk(self, value: Any, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_JSON_NODES:
            raise _Refusal("json_too_large", f"at most {MAX_JSON_NODES} values")
        if depth > MAX_JSON_DEPTH:
            raise _Refusal("json_too_deep", f"at most {MAX_JSON_DEPTH} levels")
        if isinstance(value, str):
            _check_text(value)
            if len(value) > _JSON_STRING_MAX:
                raise _Refusal("json_string_too_long", f"strings of at most {_JSON_STRING_MAX} characters")
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            if value not in _INT64:
                raise _Refusal("json_int_range", "integers must fit in 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _Refusal("json_float", "numbers must be finite")
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    _check_text(key)
                    if len(key) > _JSON_KEY_MAX:
                        raise _Refusal("json_key_too_long", f"keys of at most {_JSON_KEY_MAX} characters")
                self.walk(item, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                self.walk(item, depth + 1)


_TEXT, _IDENTIFIER, _JSON = 1, 2, 3


def _is_hostile(value: str, kind: int) -> bool:
    """The fast test of the common case (nothing wrong); ``_refusal`` then says what is wrong."""
    return "\x00" in value or (kind == _IDENTIFIER and _CONTROLS.search(value) is not None)


def _refusal(cls: type[BaseModel], loc: tuple[str | int, ...], value: Any, error: _Refusal) -> ValidationError:
    detail = InitErrorDetails(type=error.error, loc=loc, input=value)
    return ValidationError.from_exception_data(cls.__name__, [detail])


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown keys are ignored (stale SDK usages)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", str_max_length=TEXT_MAX
    )

    # Per class, by wire alias and Python name: _TEXT, _IDENTIFIER or _JSON (free-form).
    _input_kinds: ClassVar[dict[str, int]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kinds: dict[str, int] = {}
        for name, info in cls.model_fields.items():
            alias = info.alias or name
            if _is_free_form(info.annotation):
                kinds[alias] = kinds[name] = _JSON
            else:
                kinds[alias] = kinds[name] = _IDENTIFIER if is_identifier(alias) else _TEXT
        cls._input_kinds = kinds

    @model_validator(mode="before")
    @classmethod
    def _refuse_hostile_input(cls, data: Any) -> Any:
        """The checks of the module docstring, on this model's own fields; nested models check theirs.

        Written for the common case, where nothing is wrong: one pass over the keys sent, no call per
        value (it runs for every model of every request)."""
        if not isinstance(data, dict):
            return data
        kinds = cls._input_kinds
        for key, value in data.items():
            kind = kinds.get(key)
            if kind is None:
                continue  # an unknown key is dropped, never read
            if kind == _JSON:
                if isinstance(value, str | list | dict | int | float):
                    try:
                        _JsonBudget().walk(value, 0)
                    except _Refusal as error:
                        raise _refusal(cls, (key,), value, error) from None
            elif isinstance(value, str):
                if _is_hostile(value, kind):
                    raise _refusal(cls, (key,), value, _text_refusal(value))
            elif isinstance(value, list):
                if len(value) > MAX_LIST_ITEMS:
                    raise _refusal(cls, (key,), value, _Refusal("too_long", f"at most {MAX_LIST_ITEMS} items"))
                for index, item in enumerate(value):
                    if isinstance(item, str) and _is_hostile(item, kind):
                        raise _refusal(cls, (key, index), item, _text_refusal(item))
        return data


def _text_refusal(value: str) -> _Refusal:
    if "\x00" in value:
        return _Refusal("string_nul", "NUL characters are not allowed")
    return _Refusal("string_control", "control characters are not allowed in an identifier")
