"""The README's walk-through ("sign a user in with an authenticator app"), run as written against a
live ``twofold serve`` on both databases. Only the person is replaced: the access key ``make serve``
printed (``<id>``, ``<secret>``) by the live server's, the host by its address, and the authenticator
app by pyotp, fed the otpauth URI the walk-through printed (``input()`` answers with its codes)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.compat.support import LiveServer
from twofold_client import AuthenticationError, Factor

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Walk-through: sign a user in with an authenticator app"


def walkthrough_blocks() -> list[str]:
    text = README.read_text()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_walkthrough_is_python_only_and_uses_the_quick_start_key() -> None:
    text = README.read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    fences = re.findall(r"^```(.*)$", section, re.M)
    assert fences[::2] == ["python"] * 5 and set(fences[1::2]) == {""}  # every block is run below
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = quick_start.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split()[0:2] for line in commands] == [["make", "serve"], ["make", "test"]]
    assert 'access_key_id="<id>", access_key_secret="<secret>"' in section  # as the Quick start shows it


def test_the_walkthrough_runs(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the walk-through saves twofold-qr.png in the current directory
    namespace: dict[str, Any] = {}
    prompts: list[str] = []

    def authenticator_app(prompt: str) -> str:
        """What the person reads off their phone: the current code, then the next one."""
        prompts.append(prompt)
        totp = pyotp.parse_uri(namespace["otp"].qr_code_uri)
        assert isinstance(totp, pyotp.TOTP)
        return totp.now() if len(prompts) == 1 else totp.at(time.time() + 30)

    namespace["input"] = authenticator_app
    for block in walkthrough_blocks():
        code = (
            block.replace('"<id>"', repr(live_server.access_key_id))
            .replace('"<secret>"', repr(live_server.access_key_secret))
            .replace('"http://127.0.0.1:8080"', repr(live_server.base_url))
        )
        exec(compile(code, str(README), "exec"), namespace)

    assert len(prompts) == 2
    printed = capsys.readouterr().out
    # what the comments in the blocks say is printed
    assert "True [<Factor.OTP: 'OTP'>] True\n" in printed
    assert re.search(r"^otpauth://totp/[^:]+:dana%40example\.com\?secret=\w+&.*issuer=", printed, re.M)
    assert "\ndana@example.com\nTrue\n" in printed
    assert (tmp_path / "twofold-qr.png").read_bytes().startswith(b"\x89PNG")
    assert namespace["claims"]["sub"] == namespace["user"].user_id
    assert namespace["otp"].qr_code_uri.startswith("otpauth://totp/")
    # the last block signed out: the tokens no longer work
    from twofold_client import AuthenticationClient

    app = namespace["app"]
    with AuthenticationClient(app.app_id, app.app_secret, live_server.base_url) as auth:
        with pytest.raises(AuthenticationError):
            auth.get_profile(namespace["tokens"].access_token)
        again = auth.sign_in_by_password("correct horse battery staple", email="dana@example.com").mfa
        assert again is not None and not again.must_enroll(Factor.OTP)
