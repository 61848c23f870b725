"""The writes that end a sign-in, made as one: its audit event, its login-history row, the new token
family with its first refresh token (when tokens are issued), and the sign-in throttle's counters
settled (when they are in the database: ``Counters.settle``).

On PostgreSQL they are one data-modifying statement, each write a CTE: one round trip and one commit
where there were three transactions (eleven round trips, three commits).  The family's foreign key
is checked at the end of the statement, which sees the family its sibling CTE inserted.  On SQLite
they are the same statements one by one, inside the caller's transaction (the group commit's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twofold.storage.database import Connection
from twofold.storage.repositories import audit as audit_repo
from twofold.storage.repositories import login_history as history_repo
from twofold.storage.repositories import refresh_tokens as rt_repo
from twofold.storage.repositories import signin_attempts as attempts_repo
from twofold.storage.repositories.login_history import LoginRow
from twofold.storage.repositories.refresh_tokens import NewFamily


@dataclass(frozen=True)
class SignInOutcome:
    event: audit_repo.AuditRow
    login: LoginRow | None = None  # None: no known account, no history
    family: NewFamily | None = None  # None: no tokens issued


async def write(
    conn: Connection, outcome: SignInOutcome, forget: Sequence[str] = (), give_back: Sequence[str] = ()
) -> None:
    """Write ``outcome``; delete the throttle counters of ``forget`` and give one attempt back to each
    of ``give_back`` (``signin_attempts.settle``), in the same write."""
    if conn.dialect != "postgresql":
        if forget or give_back:
            await attempts_repo.settle(conn, forget, give_back)
        if outcome.family is not None:
            await rt_repo.insert_family(conn, outcome.family)
        await audit_repo.insert(conn, outcome.event)
        if outcome.login is not None:
            await history_repo.insert(conn, outcome.login)
        return
    ctes = [f"logged AS ({audit_repo.INSERT_COLUMNS} VALUES ({audit_repo.VALUES}))"]
    params: dict[str, object] = outcome.event.params()
    if forget or give_back:
        ctes.append(attempts_repo.SETTLE_CTES)
        params.update(attempts_repo.settle_params(forget, give_back))
    if outcome.family is not None:
        ctes.append(f"family AS ({rt_repo.INSERT_FAMILY}), first_token AS ({rt_repo.INSERT_FIRST_REFRESH})")
        params.update(outcome.family.params())
    if outcome.login is not None:
        ctes.append(f"history AS ({history_repo.INSERT})")
        params.update(history_repo.params(outcome.login))
    await conn.execute(f"WITH {', '.join(ctes)} SELECT 1", params)
