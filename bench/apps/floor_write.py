"""Baseline 3 (issue 13): the floor of a ``set-mfa-status`` write on PostgreSQL.

The parse-only endpoint (``parse_only.py``: the same body, the same pydantic model) plus one raw asyncpg
UPDATE of the user's stored status per request, on a pool of its own in autocommit:

    UPDATE mfa_statuses SET document = $1, version = version + 1, updated_at = $2 WHERE user_id = $3

No auth, no lookup by e-mail, no compare-and-set, no audit event: what no implementation of the write
can be cheaper than on the same uvicorn stack and the same database.  It answers 404 in the envelope if
the user has no stored status (the benchmark seeds one for every user, so a bad answer means a bad seed).

Environment: ``FLOOR_DATABASE_URL`` (a ``postgresql://`` URL, the benchmark database) and
``TWOFOLD_POSTGRES_POOL_SIZE`` (connections per worker, default 10 like Twofold's).  Run by
bench/harness/write_phase.py as ``python -m uvicorn --app-dir bench/apps floor_write:app``.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from parse_only import SetStatus  # the parse-only app's model: the floor parses exactly what it parses

UPDATE = "UPDATE mfa_statuses SET document = $1, version = version + 1, updated_at = $2 WHERE user_id = $3"
OK = {"statusCode": 200, "message": "Operation successful", "data": {"success": True}}
MISSING = {"statusCode": 404, "message": "no stored status", "data": None}
_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    global _pool
    size = int(os.environ.get("TWOFOLD_POSTGRES_POOL_SIZE", "10"))
    _pool = await asyncpg.create_pool(os.environ["FLOOR_DATABASE_URL"], min_size=size, max_size=size)
    try:
        yield
    finally:
        await _pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/api/v3/set-mfa-status")
async def set_mfa_status(body: SetStatus) -> dict[str, object]:
    assert _pool is not None
    document = body.mfa_trigger_data.model_dump_json(by_alias=True, exclude={"mfa_token"})
    status = await _pool.execute(UPDATE, document, int(time.time() * 1000), body.user_id)
    return OK if status == "UPDATE 1" else MISSING
