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


# ---------------------------------------------------------------------- the SDK's own README
SDK_README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


def sdk_readme_blocks(heading: str) -> list[str]:
    section = SDK_README.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_sdk_readme_sign_in_examples_run(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``clients/python/README.md#signing-users-in``: the sign-in example (enrolment branch, one wrong
    code, then the right one) and the offline check, against the live server."""
    from twofold_client import ApplicationMfa, ManagementClient, MfaTriggerData

    with ManagementClient(
        live_server.access_key_id, live_server.access_key_secret, live_server.base_url
    ) as admin:
        app = admin.create_application("SDK README app", app_identifier="sdk-readme")
        admin.update_application_mfa_settings(app.app_id, enabled_factors=[Factor.OTP])
        user = admin.create_user(
            username="erin", email="erin@example.com", password="correct horse battery staple"
        )
        admin.set_users_mfa_status(
            MfaTriggerData(
                mfa_token="-", application_mfa=[ApplicationMfa(mfa_policy=Factor.OTP, status=1, sort=0)]
            ),
            user.user_id,
        )
    assert app.app_secret
    # the section's codes example runs in test_authentication_codes_live.py (it needs a delivering server)
    sign_in, offline = [b for b in sdk_readme_blocks("## Signing users in") if "sign_in_by_passcode" not in b]
    printed: list[str] = []

    def authenticator_app(prompt: str) -> str:
        """The enrolment code, then a wrong code (the example asks again), then the next code."""
        printed.append(capsys.readouterr().out)
        uri = next(line for line in "".join(printed).splitlines() if line.startswith("otpauth://"))
        totp = pyotp.parse_uri(uri)
        assert isinstance(totp, pyotp.TOTP)
        nxt = totp.at(time.time() + 30)
        return [totp.now(), "000000" if nxt != "000000" else "111111", nxt][len(printed) - 1]

    namespace: dict[str, Any] = {"input": authenticator_app}
    code = (
        sign_in.replace('"<app id>"', repr(app.app_id))
        .replace('"<app secret>"', repr(app.app_secret))
        .replace('"http://127.0.0.1:8080"', repr(live_server.base_url))
        .replace("dana@example.com", "erin@example.com")  # dana is the walk-through's, on this server
    )
    assert code.count(repr(app.app_id)) == 1
    exec(compile(code, str(SDK_README), "exec"), namespace)
    out = "".join(printed) + capsys.readouterr().out
    assert (
        len(printed) == 3 and "Wrong code, try the next one\n" in out and out.endswith("erin@example.com\n")
    )

    from twofold_client import AuthenticationClient

    with AuthenticationClient(app.app_id, app.app_secret, live_server.base_url) as auth:
        offline_ns: dict[str, Any] = {
            "auth": auth,
            "access_token": namespace["tokens"].access_token,
            "app_id": app.app_id,
        }
        exec(compile(offline, str(SDK_README), "exec"), offline_ns)
    assert offline_ns["claims"]["sub"] == user.user_id
