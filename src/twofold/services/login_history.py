"""Login history (docs/signin.md#login-history): every sign-in outcome of a user, newest first.

``login_row`` is written by ``SignInService`` with the sign-in's audit event, in the same write
(``repositories/signin_outcomes.py``), so each way of signing in (password, passcode, the MFA step)
lands here without doing anything itself.
An outcome is kept only when the account is known: an attempt on no account belongs to nobody's
history (the audit trail still has it).  Nothing secret reaches the table: the password, the code and
the tokens are never in ``after``, and the free-text columns are cut to their column's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from twofold.domain.identifiers import parse_user_id_type, parse_user_ref
from twofold.services.context import Caller, Clock
from twofold.services.user_support import the_one
from twofold.storage.database import Database
from twofold.storage.repositories import login_history as history_repo
from twofold.storage.repositories import users as users_repo
from twofold.storage.repositories.login_history import LoginFilter, LoginRow

__all__ = ["LoginEntry", "LoginHistoryService", "LoginQuery", "login_row"]

# the sign-in's audit action -> the outcome the history keeps; other actions are not sign-in outcomes
OUTCOMES = {"signin.success": "success", "signin.failure": "failure", "signin.mfa.challenge": "mfa_challenge"}
USER_AGENT_LENGTH = 512


@dataclass(frozen=True)
class LoginEntry:
    """One sign-in outcome, with the application it was for (``app_name`` None: deleted since)."""

    user_id: str
    app_id: str
    app_name: str | None
    app_logo: str
    app_login_url: str
    at: int  # ms
    outcome: str  # success | failure | mfa_challenge
    connection: str  # PASSWORD | PASSCODE
    factor: str | None  # OTP, SMS, EMAIL: the factor that completed an MFA sign-in
    client_ip: str
    user_agent: str
    reason: str | None  # why a failure failed

    @property
    def success(self) -> bool:
        return self.outcome == "success"


def login_row(
    clock: Clock, caller: Caller, action: str, user_id: str | None, after: dict[str, Any]
) -> LoginRow | None:
    """The outcome of a sign-in to keep; None when ``action`` is none or the account is unknown."""
    outcome = OUTCOMES.get(action)
    if outcome is None or user_id is None:
        return None
    factor = after.get("factor")
    reason = after.get("reason")
    return LoginRow(
        pool_id=caller.pool_id,
        user_id=user_id,
        app_id=str(after.get("appId") or caller.principal.access_key_id.removeprefix("app:"))[:32],
        at=clock(),
        outcome=outcome,
        connection=str(after.get("connection") or "PASSWORD")[:16],
        factor=str(factor)[:16] if factor else None,
        client_ip=caller.client_ip[:64],
        user_agent=caller.user_agent[:USER_AGENT_LENGTH],
        reason=str(reason)[:200] if reason and outcome == "failure" else None,
        request_id=caller.request_id[:64],
    )


@dataclass(frozen=True)
class LoginQuery:
    """The filters and the page of a login-history call; ``None`` is "any"."""

    app_id: str | None = None
    client_ip: str | None = None
    success: bool | None = None
    start: int | None = None  # ms, inclusive
    end: int | None = None  # ms, inclusive
    page: int = 1
    limit: int = 10

    def filter(self, pool_id: str, user_id: str) -> LoginFilter:
        return LoginFilter(pool_id, user_id, self.app_id, self.client_ip, self.success, self.start, self.end)


class LoginHistoryService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_for_user(
        self, pool_id: str, user_id: str | None, user_id_type: str | None, q: LoginQuery
    ) -> tuple[list[LoginEntry], int]:
        """``get-user-login-history``: the user named by ``user_id``/``user_id_type`` (UserNotFound)."""
        ref = parse_user_ref(user_id, parse_user_id_type(user_id_type))
        async with self._db.read() as conn:
            user = the_one(await users_repo.find(conn, pool_id, ref))
            rows, total = await history_repo.page(conn, q.filter(pool_id, user.id), (q.page - 1) * q.limit, q.limit)
        return [_entry(r) for r in rows], total

    async def list_mine(self, pool_id: str, user_id: str, q: LoginQuery) -> tuple[list[LoginEntry], int]:
        """``get-my-login-history``: the signed-in user's own (``user_id`` from their access token)."""
        async with self._db.read() as conn:
            rows, total = await history_repo.page(conn, q.filter(pool_id, user_id), (q.page - 1) * q.limit, q.limit)
        return [_entry(r) for r in rows], total


def _entry(row: Any) -> LoginEntry:
    try:
        config = orjson.loads(row["app_config"]) if row["app_config"] else {}
    except orjson.JSONDecodeError:
        config = {}
    if not isinstance(config, dict):
        config = {}
    return LoginEntry(
        user_id=row["user_id"],
        app_id=row["app_id"],
        app_name=row["app_name"],
        app_logo=str(config.get("appLogo") or ""),
        app_login_url=str(config.get("initLoginUri") or ""),
        at=int(row["at"]),
        outcome=row["outcome"],
        connection=row["connection"],
        factor=row["factor"],
        client_ip=row["client_ip"],
        user_agent=row["user_agent"],
        reason=row["reason"],
    )
