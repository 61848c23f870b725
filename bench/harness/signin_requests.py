"""The requests of the sign-in scenarios (issue 10), in the format of harness/requests.py.

* ``mfa-totp-verify.right``: ``POST /api/v3/mfa-totp-verify {totp}`` with a user's access token and a
  right code.  Twofold accepts a code only if its time step is newer than the last step accepted for
  that user (the replay guard), so every request is for a *different* user, with a code of a step that
  user has not spent yet: ``CodeBook`` hands out, per user, the current step or the next one (both valid
  for the server, which accepts ±1 step, for at least 30 s after the file is written), and never the
  same step twice.  The files are sent once (``BENCH_ONCE``); a user can be verified about once per
  30-s step, so the OTP users must outnumber the requests of a run (``--otp-users``).
* ``mfa-totp-verify.wrong``: the same call with a well-formed wrong code, for a separate set of users,
  cycled: each user's first ``mfa_max_failures`` (5) wrong codes are counted, the 5th locks the factor,
  and later attempts meet the lock (which answers the same ``verified: false``).  That is the steady
  state of a guessing attack.
* ``signin.password``: ``POST /api/v3/signin`` ``connection: PASSWORD`` by username, with
  ``client_id``/``client_secret`` in the body (client_secret_post), for users without MFA, in
  round-robin order so that no two requests in flight are for one account.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pyotp

from .requests import raw_request
from .signin_seed import PASSWORD, SCOPE, SigninDatabase, otp_secret, signin_username

PERIOD = 30
EXPECT = {
    "mfa-totp-verify.right": '"verified":true',
    "mfa-totp-verify.wrong": '"verified":false',
    "signin.password": '"access_token"',
}


def _body(document: dict[str, object]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _totp_request(port: int, token: str, code: str) -> bytes:
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    return raw_request("POST", "/api/v3/mfa-totp-verify", port, headers, _body({"totp": code}))


class CodeBook:
    """Which step each right-code user may still spend; survives across the cells of one database.

    A user may spend the current step and the next, so after a burst every user is spent until the
    next step begins.  When fewer users are free than a file needs, ``requests`` waits for that step
    (at most 30 s, before the run, outside any timing) rather than write a short file, and says so
    through ``log``; the run's rate is unaffected, the bench only takes longer."""

    def __init__(self, db: SigninDatabase, log: Callable[[str], None] = print) -> None:
        self._db = db
        self._log = log
        self._last: list[int] = [-1] * db.right_users
        self._totp = [pyotp.TOTP(otp_secret(i), digits=6, interval=PERIOD) for i in range(db.right_users)]
        self._cursor = 0
        self.handed_out = 0
        self.waited_s = 0.0

    def free(self, now: int) -> int:
        """Users who may spend a step at step ``now`` (their last one is ``now`` or older)."""
        return sum(1 for last in self._last if last <= now)

    def requests(self, port: int, count: int) -> Iterator[bytes]:
        """``count`` requests (at most one per user, so at most ``--otp-users``), each for a different user."""
        users = self._db.right_users
        count = min(count, users)
        now = int(time.time()) // PERIOD
        if self.free(now) < count:
            pause = (now + 1) * PERIOD - time.time() + 0.2
            self._log(
                f"  {count:,} fresh codes needed, {self.free(now):,} users free: waiting {pause:.0f} s for the next step"
            )
            time.sleep(max(0.0, pause))
            self.waited_s += max(0.0, pause)
            now = int(time.time()) // PERIOD
        made = 0
        for offset in range(users):
            if made >= count:
                break
            i = (self._cursor + offset) % users
            step = max(now, self._last[i] + 1)
            if step > now + 1:
                continue
            self._last[i] = step
            made += 1
            yield _totp_request(port, self._db.tokens[i], self._totp[i].generate_otp(step))
        self._cursor = (self._cursor + made) % users if users else 0
        self.handed_out += made


def wrong_code_requests(db: SigninDatabase, port: int, count: int) -> Iterator[bytes]:
    """``count`` requests cycling over the wrong-code users, each with a code none of the steps near now
    would accept (checked against steps now-1 .. now+3, so the file stays wrong for two minutes)."""
    now = int(time.time()) // PERIOD
    for k in range(count):
        i = db.right_users + k % db.wrong_users
        totp = pyotp.TOTP(otp_secret(i), digits=6, interval=PERIOD)
        near = {totp.generate_otp(s) for s in range(now - 1, now + 4)}
        guess = (k * 7919 + 123456) % 1_000_000
        while f"{guess:06d}" in near:
            guess = (guess + 1) % 1_000_000
        yield _totp_request(port, db.tokens[i], f"{guess:06d}")


def signin_requests(db: SigninDatabase, port: int, count: int) -> Iterator[bytes]:
    for k in range(count):
        body = _body(
            {
                "connection": "PASSWORD",
                "passwordPayload": {"username": signin_username(k % db.signin_users), "password": PASSWORD},
                "options": {"scope": SCOPE},
                "client_id": db.app_id,
                "client_secret": db.app_secret,
            }
        )
        yield raw_request("POST", "/api/v3/signin", port, {"content-type": "application/json"}, body)
