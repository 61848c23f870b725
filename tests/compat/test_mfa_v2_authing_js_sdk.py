"""The v2 MFA step driven by the unmodified ``authing-js-sdk`` ``MfaAuthenticationClient`` (Node), over
real HTTP, on both databases (docs/wire.md#v2-mfa): ``verifyTotpMfa`` and ``verifyTotpRecoveryCode``
with the mfaToken of a genauth sign-in.  The SDK returns the body's ``data`` when ``code`` is 200 and
throws ``{code, message, data}`` otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.compat.support import LiveServer, ok_data
from tests.compat.test_mfa_step_genauth_python_sdk import mfa_token, sdk, wrong_code
from tests.compat.test_mfa_v2_step import otp_user

pytestmark = pytest.mark.compat

JS_SDK_VERSION = "4.23.55"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "node-js-sdk"  # gitignored
RUNNER = Path(__file__).resolve().parent / "node" / "run_js_sdk_mfa.cjs"


@pytest.fixture(scope="session")
def js_sdk() -> Path:
    """``authing-js-sdk`` installed once into the gitignored cache (npm, under a file lock)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: the authing-js-sdk contract test needs Node.js 18+ and npm")
    manifest = CACHE / "node_modules" / "authing-js-sdk" / "package.json"

    def installed() -> bool:
        try:
            return bool(json.loads(manifest.read_text())["version"] == JS_SDK_VERSION)
        except (OSError, ValueError, KeyError):
            return False

    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed():
            env = dict(os.environ, npm_config_cache=str(CACHE / "npm-cache"), npm_config_update_notifier="false")
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"authing-js-sdk@{JS_SDK_VERSION}"],
                capture_output=True, timeout=300, check=False, env=env,
            )
            if done.returncode != 0 or not installed():
                raise RuntimeError(f"npm install authing-js-sdk failed:\n{done.stdout!r}{done.stderr!r}")
    return CACHE / "node_modules"


def run(node_modules: Path, server: LiveServer, app: dict[str, Any], calls: list[dict[str, Any]]) -> list[Any]:
    node = shutil.which("node")
    assert node is not None
    env = {**os.environ, "NODE_PATH": str(node_modules), "NODE_NO_WARNINGS": "1"}
    payload = json.dumps({"options": {"appId": app["appId"], "appHost": server.base_url}, "calls": calls})
    done = subprocess.run([node, str(RUNNER)], input=payload.encode(), capture_output=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    results: list[Any] = json.loads(done.stdout)
    assert len(results) == len(calls), results
    return results


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "MFA js"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def test_verify_totp_mfa_and_recovery_code(js_sdk: Path, live_server: LiveServer, app: dict[str, Any]) -> None:
    first = "aaaa-bbbb-cccc-dddd-eeee-ffff"
    user, totp = otp_user(live_server, first)
    client = sdk(live_server, app)
    token, second_token = mfa_token(client, user), mfa_token(client, user)

    wrong, done, spent, recovered, reused = run(js_sdk, live_server, app, [
        {"method": "verifyTotpMfa", "args": {"totp": wrong_code(totp), "mfaToken": token}},
        {"method": "verifyTotpMfa", "args": {"totp": totp.now(), "mfaToken": token}},
        {"method": "verifyTotpMfa", "args": {"totp": totp.now(), "mfaToken": token}},
        {"method": "verifyTotpRecoveryCode", "args": {"recoveryCode": first, "mfaToken": second_token}},
        {"method": "verifyTotpRecoveryCode", "args": {"recoveryCode": first, "mfaToken": mfa_token(client, user)}},
    ])
    assert not wrong["ok"] and wrong["error"]["code"] == 6001, wrong
    assert done["ok"], done
    signed_in = done["result"]
    assert signed_in["userId"] == user["userId"] and signed_in["user"]["token"] == signed_in["token"]
    keys = jwt.PyJWKClient(f"{live_server.base_url}/oidc/.well-known/jwks.json")
    claims = jwt.decode(signed_in["token"], keys.get_signing_key_from_jwt(signed_in["token"]),
                        algorithms=["RS256"], audience=app["appId"])
    assert claims["sub"] == user["userId"]
    assert not spent["ok"] and spent["error"]["code"] == 2021, spent
    assert recovered["ok"] and recovered["result"]["userId"] == user["userId"], recovered
    fresh = recovered["result"]["recoveryCode"]  # the js SDK hands back only data: the new code is there too
    assert fresh != first
    assert not reused["ok"] and reused["error"]["code"] == 6002, reused

    (again,) = run(js_sdk, live_server, app, [
        {"method": "verifyTotpRecoveryCode", "args": {"recoveryCode": fresh, "mfaToken": mfa_token(client, user)}},
    ])
    assert again["ok"] and again["result"]["recoveryCode"] not in (first, fresh), again
