"""No input reaches a database driver unchecked (docs/architecture.md#where-input-is-checked).

The app's own routes are enumerated (the body model of each ``LeanRoute`` and the query models of its
dependencies), so a new endpoint is covered without editing this file.  For every string (and free-form
JSON, integer and list) field of every request model, nested models and list items included, a
valid-looking request is built, one hostile value is put in that one field, and the request is sent
through the real app with a real management token, on SQLite and PostgreSQL.  Each must come back as a
4xx envelope naming the parameter, and leave every table exactly as it was.

Hostile values: NUL everywhere; a C0 control (U+0001-U+001F, DEL) in identifiers; one character more
than the longest string the schema accepts; an integer beyond the largest it accepts; one item more
than the longest list.  The longest string and largest integer the schema does accept must not break
the database either (no statusCode >= 500): a bound must fit its column.
"""

from __future__ import annotations

import enum
import itertools
import sqlite3
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import httpx
import psycopg
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from tests.conftest import BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, SECRET_KEY, Api
from tests.factories import user_payload
from tests.hmac_auth import NodeStyleSigner
from twofold.api.app import create_app
from twofold.config import Settings
from twofold.schemas.common import WireModel, is_identifier
from twofold.storage.tables import metadata

Path = tuple[str | int, ...]
SEARCH_LIMIT = 100_000  # a string or list the schema accepts at this length counts as unbounded
INT_LIMIT = 2**80
LIST_LIMIT = 20_000

# ------------------------------------------------------------------------------ the app's routes


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    model: type[BaseModel]
    in_query: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.path} {self.model.__name__}"


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``Optional``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def app_routes() -> list[Route]:
    settings = Settings(database_url="sqlite:///never-opened.db", secret_key=SECRET_KEY)
    routes: list[Route] = []
    for route in create_app(settings).routes:
        if not isinstance(route, APIRoute):
            continue
        method = sorted(route.methods)[0]
        for param in route.dependant.body_params:
            model = _unwrap(param.field_info.annotation)
            assert _is_model(model), f"{route.path}: body {model!r} is not a model"
            routes.append(Route(method, route.path, model, in_query=False))
        for dependency in route.dependant.dependencies:
            model = getattr(dependency.call, "query_model", None)
            if model is not None:
                routes.append(Route(method, route.path, model, in_query=True))
    return routes


ROUTES = app_routes()

# ------------------------------------------------------------------------------ fields and samples


@dataclass(frozen=True)
class Leaf:
    path: Path
    kind: Literal["str", "json", "int", "list"]
    identifier: bool

    @property
    def parameter(self) -> str:
        return next(p for p in reversed(self.path) if isinstance(p, str))


def leaves(model: type[BaseModel], prefix: Path = ()) -> Iterator[Leaf]:
    """Every input leaf of ``model``, through nested models and list items (index 0)."""
    assert issubclass(model, WireModel), f"{model.__name__} is a request model but not a WireModel"
    for name, info in model.model_fields.items():
        alias = info.alias or name
        yield from _leaves_of(info.annotation, (*prefix, alias), alias)


def _leaves_of(annotation: Any, path: Path, alias: str) -> Iterator[Leaf]:
    inner = _unwrap(annotation)
    origin = typing.get_origin(inner)
    if inner is Any or inner is dict or origin is dict:
        yield Leaf(path, "json", False)
    elif origin is list:
        yield Leaf(path, "list", False)
        yield from _leaves_of(typing.get_args(inner)[0], (*path, 0), alias)
    elif _is_model(inner):
        yield from leaves(inner, path)
    elif inner is str:
        yield Leaf(path, "str", is_identifier(alias))
    elif inner is int:
        yield Leaf(path, "int", False)


@dataclass
class Seed:
    user_id: str
    app_id: str
    counter: Iterator[int]


def _samples(seed: Seed) -> dict[str, Callable[[], Any]]:
    """Valid-looking values by wire name (the rest are built from the type)."""
    n = lambda: next(seed.counter)  # noqa: E731
    return {
        "username": lambda: f"hostile{n()}",
        "email": lambda: f"hostile{n()}@example.com",
        "phone": lambda: f"1390000{n():04d}",
        "phoneCountryCode": lambda: "+86",
        "externalId": lambda: f"ext-hostile-{n()}",
        "userId": lambda: seed.user_id,
        "userIds": lambda: [seed.user_id],
        "userIdType": lambda: "user_id",
        "appId": lambda: seed.app_id,
        "appName": lambda: "Hostile app",
        "appIdentifier": lambda: f"hostile-app-{n()}",
        "mfaPolicy": lambda: "OTP",
        "enabledFactors": lambda: ["OTP"],
        "disabledFactors": lambda: ["SMS"],
        "disableFactors": lambda: ["SMS"],
        "secret": lambda: "JBSWY3DPEHPK3PXP",
        "extIdpId": lambda: f"idp{n()}",
        "provider": lambda: "lark",
        "type": lambda: "generic",
        "userIdInIdp": lambda: f"ou_{n()}",
        "mfaEmail": lambda: f"mfa{n()}@example.com",
        "mfaPhone": lambda: f"1370000{n():04d}",
        "mfaPhoneCountryCode": lambda: "+86",
        "field": lambda: "username",
        "fuzzySearchOn": lambda: ["username"],
        "nickname": lambda: f"Hostile {n()}",
    }


class Builder:
    """Builds a request for ``model`` holding the given leaf, with everything else valid-looking."""

    def __init__(self, route: Route, seed: Seed) -> None:
        self.route = route
        self.samples = _samples(seed)

    def request(self, target: Path) -> dict[str, Any]:
        return self._model(self.route.model, target)

    def _model(self, model: type[BaseModel], target: Path) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            alias = info.alias or name
            targeted = bool(target) and target[0] == alias
            if targeted or info.is_required() or alias in self.samples:
                data[alias] = self._value(info.annotation, alias, target[1:] if targeted else ())
        return data

    def _value(self, annotation: Any, alias: str, target: Path) -> Any:
        if alias in self.samples:  # a scalar, or a list of scalars (the target is then its item 0)
            return self.samples[alias]()
        inner = _unwrap(annotation)
        origin = typing.get_origin(inner)
        if inner is Any or inner is dict or origin is dict:
            return {"note": "hostile test"}
        if origin is list:
            return [self._value(typing.get_args(inner)[0], alias, target[1:])]
        if _is_model(inner):
            return self._model(inner, target)
        if origin is Literal:
            return typing.get_args(inner)[0]
        if isinstance(inner, type) and issubclass(inner, enum.Enum):
            return next(iter(inner)).value
        if inner is str:
            return "hostile"
        if inner is bool or "bool" in repr(inner):
            return False
        if inner is int:
            return 1
        raise AssertionError(f"{self.route.name}: no sample for {alias}: {annotation!r}")


def put(data: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def as_query(data: dict[str, Any]) -> dict[str, Any]:
    """What a query string can carry: strings, and lists of strings."""
    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {k: [text(i) for i in v] if isinstance(v, list) else text(v) for k, v in data.items()}


def is_accepted(route: Route, payload: dict[str, Any]) -> bool:
    try:
        route.model.model_validate(as_query(payload) if route.in_query else payload)
    except ValidationError:
        return False
    return True


def largest_accepted(accepts: Callable[[int], bool], limit: int) -> int:
    """The largest ``n`` in [0, limit) that ``accepts`` (a monotone predicate true at 0)."""
    low, high = 0, limit
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if accepts(mid) else (low, mid)
    return low


# ------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    leaf: Leaf
    what: str
    payload: dict[str, Any]


def hostile_cases(route: Route, seed: Seed) -> Iterator[Case]:
    build = Builder(route, seed)
    for leaf in leaves(route.model):
        baseline = build.request(leaf.path)
        assert is_accepted(route, baseline), f"{route.name}: the baseline for {leaf.path} is refused: {baseline}"

        def with_value(value: Any, leaf: Leaf = leaf) -> dict[str, Any]:
            return put(build.request(leaf.path), leaf.path, value)

        if leaf.kind == "str":
            yield Case(leaf, "NUL", with_value("ab\x00cd"))
            if leaf.identifier:
                for control in ("\x01", "\n", "\x1f", "\x7f"):
                    yield Case(leaf, f"control {control!r}", with_value(f"ab{control}cd"))
            longest = largest_accepted(lambda k: is_accepted(route, with_value("a" * k)), SEARCH_LIMIT)
            assert longest < SEARCH_LIMIT - 1, f"{route.name}: {leaf.path} has no length bound"
            yield Case(leaf, f"{longest + 1} characters", with_value("a" * (longest + 1)))
        elif leaf.kind == "json" and not route.in_query:
            for value in ({"k": "a\x00"}, {"k\x00": 1}, {"a": {"b": ["x", "\x00"]}}, "a\x00", [{"k": "\x00"}]):
                yield Case(leaf, f"NUL in {value!r}", with_value(value))
            yield Case(leaf, "an integer beyond 64 bits", with_value({"k": 2**64}))
            deep: Any = "x"
            for _ in range(50):
                deep = {"d": deep}
            yield Case(leaf, "50 levels of JSON", with_value(deep))
            yield Case(leaf, "an over-long JSON string", with_value({"k": "a" * SEARCH_LIMIT}))
        elif leaf.kind == "int":
            largest = largest_accepted(lambda k: is_accepted(route, with_value(k)), INT_LIMIT)
            assert largest < INT_LIMIT - 1, f"{route.name}: {leaf.path} has no upper bound"
            yield Case(leaf, f"the integer {largest + 1}", with_value(largest + 1))
        elif leaf.kind == "list":
            item = typing.cast(list[Any], _at(baseline, leaf.path))[0]

            def many(k: int, item: Any = item) -> dict[str, Any]:
                return with_value([item] * k)

            longest = largest_accepted(lambda k: is_accepted(route, many(k)), LIST_LIMIT)
            assert longest < LIST_LIMIT - 1, f"{route.name}: {leaf.path} has no item bound"
            yield Case(leaf, f"{longest + 1} items", many(longest + 1))


def boundary_cases(route: Route, seed: Seed) -> Iterator[Case]:
    """The longest string and the largest integer each field accepts."""
    build = Builder(route, seed)
    for leaf in leaves(route.model):
        def with_value(value: Any, leaf: Leaf = leaf) -> dict[str, Any]:
            return put(build.request(leaf.path), leaf.path, value)

        if leaf.kind == "str":
            longest = largest_accepted(lambda k: is_accepted(route, with_value("7" * k)), SEARCH_LIMIT)
            yield Case(leaf, f"{longest} characters", with_value("7" * longest))
        elif leaf.kind == "int":
            largest = largest_accepted(lambda k: is_accepted(route, with_value(k)), INT_LIMIT)
            yield Case(leaf, f"the integer {largest}", with_value(largest))


def _at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


# ------------------------------------------------------------------------------ the database


class Tables:
    """Every row of every table, read over one connection of the test's own."""

    def __init__(self, database_url: str) -> None:
        self.names = [t.name for t in metadata.sorted_tables]
        if database_url.startswith("sqlite"):
            self.conn: Any = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        else:
            self.conn = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                                        autocommit=True)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        return {n: sorted(self.conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in self.names}

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def tables(settings: Settings) -> Iterator[Tables]:
    opened = Tables(settings.database_url)
    try:
        yield opened
    finally:
        opened.close()


async def seed(api: Api) -> Seed:
    user = await api.ok("POST", "create-user", user_payload())
    app = await api.ok("POST", "create-application", {"appName": "Seed app", "appIdentifier": "seed-app"})
    return Seed(user["userId"], app["appId"], itertools.count(1))


async def send(api: Api, route: Route, payload: dict[str, Any]) -> dict[str, Any]:
    if route.in_query:
        return await api.raw(route.method, route.path, params=as_query(payload))
    return await api.raw(route.method, route.path, json=payload)


def short(case: Case) -> str:
    return f"{'.'.join(map(str, case.leaf.path))} <- {case.what}"


# ------------------------------------------------------------------------------ the tests


def test_every_route_with_input_is_walked() -> None:
    """The enumeration itself: a route whose models were missed would go untested."""
    names = {r.path for r in ROUTES}
    assert {"/api/v3/create-user", "/api/v3/is-user-exists", "/api/v3/get-user", "/api/v3/set-mfa-status",
            "/api/v3/twofold/list-audit-events"} <= names
    assert sum(1 for r in ROUTES for _ in leaves(r.model)) > 200


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
async def test_hostile_input_is_refused_naming_the_parameter_and_changes_nothing(
    route: Route, api: Api, tables: Tables
) -> None:
    known = await seed(api)
    failures: list[str] = []
    before = tables.dump()
    count = 0
    for case in hostile_cases(route, known):
        count += 1
        body = await send(api, route, case.payload)
        status, message = body["statusCode"], str(body["message"])
        if not 400 <= status < 500:
            failures.append(f"{short(case)}: statusCode {status} {message[:120]}")
        elif case.leaf.parameter not in message:
            failures.append(f"{short(case)}: message does not name {case.leaf.parameter!r}: {message[:120]}")
        elif not body.get("apiCode") or not body.get("requestId"):
            failures.append(f"{short(case)}: envelope without apiCode/requestId: {body}")
        after = tables.dump()
        if after != before:
            failures.append(f"{short(case)}: changed {[t for t in before if before[t] != after[t]]}")
            before = after
    assert count > 0
    assert failures == []

    # Then what the schema does accept, at its limits: it may change rows, but must fit the columns.
    for case in boundary_cases(route, known):
        body = await send(api, route, case.payload)
        if body["statusCode"] >= 500:
            failures.append(f"{short(case)}: statusCode {body['statusCode']} {body['message'][:120]}")
    assert failures == []


async def test_credentials_holding_a_nul_fail_authentication_like_any_other(
    client: httpx.AsyncClient, tables: Tables
) -> None:
    """Credentials are input too, read before any model: a NUL there is a failed sign-in, not a 500."""
    before = tables.dump()
    body = await Api(client).raw(
        "POST",
        "/api/v3/get-management-token",
        json={"accessKeyId": f"{BOOTSTRAP_KEY_ID}\x00", "accessKeySecret": BOOTSTRAP_SECRET},
        auth=False,
    )
    assert body["statusCode"] == 401, body
    for signer in (
        NodeStyleSigner(f"{BOOTSTRAP_KEY_ID[:5]}\x00{BOOTSTRAP_KEY_ID[5:]}", BOOTSTRAP_SECRET),
        NodeStyleSigner(BOOTSTRAP_KEY_ID, BOOTSTRAP_SECRET, nonce="nonce\x00nonce"),
    ):
        response = await client.get("/api/v3/get-user", params={"userId": "nobody"}, auth=signer)
        assert response.json()["statusCode"] == 401, response.text
    assert tables.dump() == before


# ------------------------------------------------------------------------------ the reported cases, via the SDK


@pytest.mark.compat
@pytest.mark.parametrize("field", ["username", "nickname"])
def test_genauth_sdk_create_user_with_a_nul_is_refused_and_stores_nothing(live_server: Any, field: str) -> None:
    from tests.compat.support import assert_envelope, genauth_client, new_person, ok_data

    person = new_person("nul")
    values = {"username": person["username"], "email": person["email"], "nickname": "Hostile user"}
    values[field] = values[field][:4] + "\u0000" + values[field][4:]
    users_before = ok_data(live_server.call("POST", "list-users", json={}))["totalCount"]
    body = assert_envelope(genauth_client(live_server).create_user(**values))
    assert body["statusCode"] == 400 and field in body["message"], body
    assert body["apiCode"] and body["requestId"], body
    assert ok_data(live_server.call("POST", "list-users", json={}))["totalCount"] == users_before


@pytest.mark.compat
def test_genauth_sdk_is_user_exists_with_a_nul_is_refused(live_server: Any) -> None:
    from tests.compat.support import assert_envelope, genauth_client

    body = assert_envelope(genauth_client(live_server).is_user_exists(username="nul\u0000user"))
    assert body["statusCode"] == 400 and "username" in body["message"], body
