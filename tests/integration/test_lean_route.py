"""What ``LeanRoute`` promises (api/routing.py): authentication before input parsing, and body errors
mapped exactly as FastAPI's own route would have them mapped."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from twofold.api import errors
from twofold.api.middleware import RequestContextMiddleware
from twofold.api.routing import LeanRoute
from twofold.errors import AuthenticationFailed


# --------------------------------------------------------------- the real app: who first, then what
async def test_an_unauthenticated_request_with_an_invalid_body_gets_the_authentication_error(
    client: httpx.AsyncClient,
) -> None:
    for content, headers in (
        (b'{"username": 12, "email": []}', {"content-type": "application/json"}),  # fields of wrong types
        (b"{not json", {"content-type": "application/json"}),
        (b"username=a", {"content-type": "text/plain"}),
    ):
        response = await client.post("/api/v3/create-user", content=content, headers=headers)
        body = response.json()
        assert (body["statusCode"], body["apiCode"]) == (401, AuthenticationFailed.api_code), body


async def test_an_unauthenticated_request_with_an_invalid_query_gets_the_authentication_error(
    client: httpx.AsyncClient,
) -> None:
    for params in ({"userIdType": "no-such-type", "userId": "x"}, {"page": "zero", "limit": "-1"}, {}):
        for path in ("/api/v3/get-user", "/api/v3/list-users"):
            body = (await client.get(path, params=params)).json()
            assert (body["statusCode"], body["apiCode"]) == (401, AuthenticationFailed.api_code), (path, body)


# -------------------------------------------------------- body errors: the same envelope as FastAPI's
class Item(BaseModel):
    name: str = Field(max_length=8)
    tags: list[str] = []
    size: int = 0


async def _echo(item: Item) -> JSONResponse:
    return JSONResponse({"name": item.name})


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    errors.install(app)

    async def item_endpoint(item: Item) -> JSONResponse:
        return await _echo(item)

    async def optional_endpoint(item: Annotated[Item | None, Body()] = None) -> JSONResponse:
        return JSONResponse({"name": None if item is None else item.name})

    app.router.add_api_route("/item", item_endpoint, methods=["POST"], route_class_override=route_class)
    app.router.add_api_route("/optional", optional_endpoint, methods=["POST"], route_class_override=route_class)
    return app


_CASES: list[tuple[str, bytes, dict[str, str]]] = [
    ("/item", b"", {"content-type": "application/json"}),  # missing body
    ("/item", b'{"name": "a"}', {"content-type": "text/plain"}),  # not a JSON content type
    ("/item", b'{"name": "a"', {"content-type": "application/json"}),  # invalid JSON
    ("/item", b'{"name": "much too long"}', {"content-type": "application/json"}),  # a field error
    ("/item", b'{"name": "a", "tags": ["x", 3]}', {"content-type": "application/json"}),  # nested loc
    ("/item", b'{"size": 1}', {"content-type": "application/json"}),  # a missing field
    ("/item", b"[1, 2]", {"content-type": "application/json"}),  # not an object
    ("/item", b'{"name": "ok"}', {"content-type": "application/vnd.api+json"}),  # a +json type is JSON
    ("/optional", b"", {"content-type": "application/json"}),  # an optional body may be absent
    ("/optional", b'{"name": 5}', {"content-type": "application/json"}),
]


async def _answer(app: FastAPI, path: str, content: bytes, headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post(path, content=content, headers={**headers, "x-authing-lang": "zh-CN"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    body.pop("requestId", None)
    return body


@pytest.mark.parametrize(("path", "content", "headers"), _CASES)
async def test_body_errors_are_mapped_like_fastapis(path: str, content: bytes, headers: dict[str, str]) -> None:
    lean = await _answer(_app(LeanRoute), path, content, headers)
    fastapi = await _answer(_app(APIRoute), path, content, headers)
    # zh-CN messages carry the parameter name but not pydantic's English detail, which may be worded
    # differently (FastAPI reports a non-JSON body as "a valid dictionary", LeanRoute says why).
    assert lean == fastapi


def test_a_body_it_cannot_read_whole_is_refused_when_the_route_is_declared() -> None:
    async def embedded(item: Annotated[Item, Body(embed=True)]) -> JSONResponse:
        return await _echo(item)

    async def two_bodies(item: Item, other: Item) -> JSONResponse:
        return await _echo(item)

    for endpoint in (embedded, two_bodies):
        with pytest.raises(TypeError, match="one body model"):
            LeanRoute("/x", endpoint, methods=["POST"])


def test_its_request_only_dependencies_are_enforced() -> None:
    async def needs_query(q: int) -> JSONResponse:
        return JSONResponse({})

    with pytest.raises(TypeError, match="query model"):
        LeanRoute("/x", needs_query, methods=["GET"])

    async def with_request(request: Request) -> JSONResponse:
        return JSONResponse({})

    LeanRoute("/x", with_request, methods=["GET"])  # the shape it accepts
