"""How CLI commands reach a running server: flags, then environment, then a profile file.

Profile file (``~/.config/twofold/profiles.toml``, or ``TWOFOLD_PROFILE_FILE``)::

    [default]
    host = "http://127.0.0.1:8080"
    access_key_id = "..."
    access_key_secret = "..."
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TypeVar

import typer

from twofold.cli.runtime import err_console

if TYPE_CHECKING:
    from twofold_client import ManagementClient

T = TypeVar("T")
DEFAULT_HOST = "http://127.0.0.1:8080"


@dataclass
class ConnectionOptions:
    host: str | None = None
    access_key_id: str | None = None
    access_key_secret: str | None = None
    profile: str | None = None
    auth: Literal["token", "signature"] = "token"
    timeout: float = 30.0


def profile_path() -> Path:
    return Path(os.environ.get("TWOFOLD_PROFILE_FILE", Path.home() / ".config" / "twofold" / "profiles.toml"))


def _profile(name: str | None) -> dict[str, str]:
    path = profile_path()
    if not path.exists():
        if name:
            fail(f"profile {name!r} asked for, but {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    section = data.get(name or os.environ.get("TWOFOLD_PROFILE", "default"), {})
    if name and not section:
        fail(f"no profile [{name}] in {path}")
    return {k: str(v) for k, v in section.items()}


def require_sdk() -> None:
    """The client commands need Twofold's SDK, its own distribution (README, "Development")."""
    if importlib.util.find_spec("twofold_client") is None:
        fail(
            "the users, mfa and apps commands need the Twofold SDK (twofold-client), which is not "
            "installed: pip install ./clients/python from a Twofold checkout (make does this)"
        )


def fail(message: str, request_id: str | None = None) -> NoReturn:
    suffix = f" (request id {request_id})" if request_id else ""
    err_console.print(f"[red]error:[/red] {message}{suffix}", highlight=False)
    raise typer.Exit(1)


@contextmanager
def connect(options: ConnectionOptions) -> Iterator[ManagementClient]:
    require_sdk()
    from twofold_client import ManagementClient

    profile = _profile(options.profile)
    # flags and TWOFOLD_HOST / TWOFOLD_ACCESS_KEY_ID / TWOFOLD_ACCESS_KEY_SECRET arrive in ``options``
    host = options.host or profile.get("host") or DEFAULT_HOST
    key_id = options.access_key_id or profile.get("access_key_id")
    secret = options.access_key_secret or profile.get("access_key_secret")
    if not key_id or not secret:
        fail(
            "no access key: pass --access-key-id/--access-key-secret, set TWOFOLD_ACCESS_KEY_ID and "
            "TWOFOLD_ACCESS_KEY_SECRET, or add them to a profile (twofold --help)"
        )
    with ManagementClient(
        access_key_id=key_id, access_key_secret=secret, host=host, timeout=options.timeout, auth=options.auth
    ) as client:
        yield client


def call(options: ConnectionOptions, action: Callable[[ManagementClient], T]) -> T:
    """Run ``action`` with a client; API and transport errors become one line and exit code 1."""
    require_sdk()
    from twofold_client import ApiError, TransportError, TwofoldError

    try:
        with connect(options) as client:
            return action(client)
    except ApiError as exc:
        raise fail(exc.message, exc.request_id) from None
    except TransportError as exc:
        raise fail(f"cannot reach the server: {exc}") from None
    except TwofoldError as exc:
        raise fail(str(exc)) from None


def guess_id_type(value: str, id_type: str) -> str:
    """``auto``: an email if it has '@', a user id if it is 24 hex digits, else a username."""
    if id_type != "auto":
        return id_type
    if "@" in value:
        return "email"
    if len(value) == 24 and all(c in "0123456789abcdef" for c in value):
        return "user_id"
    return "username"
