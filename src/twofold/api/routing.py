"""``LeanRoute``: FastAPI's declarations and OpenAPI, without FastAPI's per-request machinery.

Every Twofold route has the same shape: the ``Request``, dependencies that each take only the request
(services, the authenticated caller, a query model), and at most one JSON body model.  FastAPI's generic
request handler solves that graph per request (about 8 us per dependency, plus its exit stacks and
body sniffing); measured in-process, a set-mfa-status request spent more time there than in SQLite
(``bench/inprocess.py``, docs/performance.md).

``LeanRoute`` keeps FastAPI for what it does once (reading the signature, the OpenAPI document) and
answers each request with a handler built for exactly that signature: first the dependencies that
establish who is calling (services, authentication), then those that parse the input (query models,
marked ``parses_input``), then the body, validated straight from bytes by pydantic.  So an
unauthenticated request learns nothing about its input.  Errors are the same exceptions
FastAPI raises (``RequestValidationError`` for a bad body), so ``api/errors.py`` stays the one mapper.
A signature outside that shape is refused when the route is declared, not when it is called.
"""

from __future__ import annotations

import email.message
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response

Handler = Callable[[Request], Awaitable[Response]]


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    if content_type.startswith("application/json"):
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _check_dependency(route: str, dependency: Dependant) -> Callable[[Request], Awaitable[Any]]:
    call = dependency.call
    if (
        call is None
        or dependency.dependencies
        or dependency.query_params
        or dependency.body_params
        or dependency.path_params
        or dependency.header_params
        or dependency.request_param_name is None
        or not inspect.iscoroutinefunction(call)
    ):
        raise TypeError(f"{route}: dependency {dependency.name!r} must be `async def f(request: Request)`")
    return call


def _is_embedded(info: FieldInfo) -> bool:
    """Whether FastAPI would read this lone body parameter from a member of the body named after it
    (``Body(embed=True)``) or from a form, instead of from the whole JSON body.  Public information
    only: FastAPI's own flag for it is private."""
    return bool(getattr(info, "embed", False)) or isinstance(info, params.Form)


def _body_reader(route: APIRoute) -> Callable[[Request], Awaitable[Any]] | None:
    body_params = route.dependant.body_params
    if not body_params:
        return None
    if len({p.name for p in body_params}) > 1 or _is_embedded(body_params[0].field_info):
        raise TypeError(f"{route.path}: a lean route takes at most one body model, the whole JSON body")
    field = body_params[0]
    adapter: TypeAdapter[Any] = TypeAdapter(field.field_info.annotation or Any)
    required = field.field_info.is_required()
    default = None if required else field.field_info.default

    async def read(request: Request) -> Any:
        raw = await request.body()
        if not raw:
            if required:
                raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
            return default
        if not _is_json(request.headers.get("content-type")):
            raise RequestValidationError(
                [{"type": "model_type", "loc": ("body",), "msg": "expected a JSON body (application/json)"}]
            )
        try:
            return adapter.validate_json(raw)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from None

    return read


class LeanRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.app = request_response(self._lean_handler())

    def _lean_handler(self) -> Handler:
        dependant = self.dependant
        if (
            dependant.query_params
            or dependant.path_params
            or dependant.header_params
            or dependant.cookie_params
        ):
            raise TypeError(f"{self.path}: declare query parameters as a query model (api/query.py)")
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{self.path}: a lean route's endpoint must be async")
        request_name = dependant.request_param_name
        dependencies = sorted(
            ((d.name, _check_dependency(self.path, d)) for d in dependant.dependencies),
            key=lambda item: bool(getattr(item[1], "parses_input", False)),
        )
        body_reader = _body_reader(self)
        body_name = dependant.body_params[0].name if body_reader else None

        async def handle(request: Request) -> Response:
            kwargs: dict[str, Any] = {}
            if request_name:
                kwargs[request_name] = request
            for name, call in dependencies:
                kwargs[name] = await call(request)  # type: ignore[index]
            if body_reader is not None:
                kwargs[body_name] = await body_reader(request)  # type: ignore[index]
            response: Response = await endpoint(**kwargs)
            return response

        return handle
