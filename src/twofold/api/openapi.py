"""The OpenAPI document describes the real answers: every ``/api`` operation answers the envelope.

Twofold's routes return their envelope as a ready ``Response`` (``api/envelope.py``), so FastAPI
cannot see its shape; this adds it, once, to every operation under ``/api``: HTTP 200 with
``{statusCode, message, requestId, data, apiCode?, code?}``, for successes and business errors alike
(docs/errors.md).  The fuzzing test (tests/fuzz) checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "Every answer under /api, success or business error, over HTTP 200 (docs/errors.md).",
    "required": ["statusCode", "message", "requestId", "data"],
    "properties": {
        "statusCode": {"type": "integer", "description": "the outcome: 200, or the error's class (400, 401, ...)"},
        "message": {"type": "string"},
        "requestId": {"type": "string"},
        "data": {"description": "the answer's payload; null for an error"},
        "apiCode": {"type": "integer", "description": "which error (docs/errors.md); absent on success"},
        "code": {"type": "integer", "description": "v2 answers: the apiCode again, or 200"},
    },
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            document.setdefault("components", {}).setdefault("schemas", {})["Envelope"] = ENVELOPE
            for path, operations in document["paths"].items():
                if not path.startswith("/api/"):
                    continue
                for operation in operations.values():
                    operation["responses"] = {
                        "200": {
                            "description": "The envelope",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
                        }
                    }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
