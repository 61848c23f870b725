"""Baseline 2: a FastAPI endpoint that only parses a small JSON body into a pydantic model.

It receives exactly the body a ``set-mfa-status`` benchmark request carries and validates it into a model
of the same shape (camelCase aliases, a nested list), then answers a small JSON body.  No auth, no
database: this is the framework's cost, the denominator of every ratio in the report.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic.alias_generators import to_camel


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Policy(_Wire):
    mfa_policy: Annotated[str, Field(max_length=200)]
    status: StrictInt
    sort: StrictInt


class TriggerData(_Wire):
    mfa_token: Annotated[str, Field(max_length=4000)]
    application_mfa: Annotated[list[Policy], Field(max_length=20)]
    mfa_email: Annotated[str, Field(max_length=200)] | None = None
    totp_mfa_enabled: StrictBool | None = None


class SetStatus(_Wire):
    mfa_trigger_data: TriggerData
    user_id: Annotated[str, Field(max_length=200)]
    user_id_type: Annotated[str, Field(max_length=200)] | None = None


app = FastAPI()


@app.post("/api/v3/set-mfa-status")
async def set_mfa_status(body: SetStatus) -> dict[str, object]:
    return {"statusCode": 200, "message": "Operation successful", "data": {"success": True}}
