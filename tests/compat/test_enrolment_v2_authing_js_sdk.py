"""v2 OTP enrolment during a sign-in, driven by the unmodified ``authing-js-sdk`` 4.23.55
``MfaAuthenticationClient`` (Node) over real HTTP, on both databases (docs/signin.md#v2-enrolment):
``getMfaAuthenticators`` → ``assosicateMfaAuthenticator`` → ``confirmAssosicateMfaAuthenticator`` with
the mfaToken of a genauth sign-in that must enrol OTP, then ``phoneOrEmailBindable``.

``confirmAssosicateMfaAuthenticator`` builds an ``authorization`` header from its ``mfaToken`` but
never sends it: the SDK sends the client's own token, so the caller ``setToken(mfaToken)`` first.  It
also drops the body and returns ``{code: 200, message}``; the token set it finished the sign-in with
is in the body (Guard reads it: tests/integration/test_enrolment_v2.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.compat.support import LiveServer, ok_data
from tests.compat.test_enrolment_genauth_python_sdk import mfa_status, unenrolled_user
from tests.compat.test_enrolment_genauth_python_sdk import mfa_token as sign_in
from tests.compat.test_enrolment_genauth_python_sdk import sdk as genauth_sdk
from tests.compat.test_mfa_v2_authing_js_sdk import js_sdk, run

pytestmark = pytest.mark.compat
__all__ = ["js_sdk"]  # the session fixture that installs the SDK


@pytest.fixture(scope="module")
def app(live_server: LiveServer) -> dict[str, Any]:
    created: dict[str, Any] = ok_data(live_server.call("POST", "create-application", json={"appName": "Enrol js"}))
    ok_data(live_server.call("POST", "update-application-mfa-settings",
                             json={"appId": created["appId"], "enabledFactors": ["OTP"]}))
    return created


def test_associate_then_confirm_during_a_sign_in(js_sdk: Path, live_server: LiveServer, app: dict[str, Any]) -> None:
    user = unenrolled_user(live_server)
    token = sign_in(genauth_sdk(live_server, app), user)

    listed, associated = run(js_sdk, live_server, app, [
        {"method": "getMfaAuthenticators", "args": {"type": "totp", "mfaToken": token, "source": "APPLICATION"}},
        {"method": "assosicateMfaAuthenticator",
         "args": {"authenticatorType": "totp", "mfaToken": token, "source": "APPLICATION"}},
    ])
    assert listed == {"ok": True, "result": []}, listed
    assert associated["ok"], associated
    pending = associated["result"]
    assert pending["authenticator_type"] == "totp" and pending["recovery_code"]
    totp = pyotp.parse_uri(pending["qrcode_uri"])
    assert isinstance(totp, pyotp.TOTP) and totp.secret == pending["secret"]
    assert pending["qrcode_data_url"].startswith("data:image/png;base64,")
    assert mfa_status(live_server, user)["totpMfaEnabled"] is False  # nothing bound yet

    code = totp.now()
    _, confirmed, spent, bindable, not_bindable = run(js_sdk, live_server, app, [
        {"on": "client", "method": "setToken", "args": [token]},
        {"method": "confirmAssosicateMfaAuthenticator",
         "args": {"authenticatorType": "totp", "totp": code, "source": "APPLICATION", "mfaToken": token}},
        {"method": "verifyTotpMfa", "args": {"totp": code, "mfaToken": token}},
        {"method": "phoneOrEmailBindable", "args": {"phone": "13800138000", "mfaToken": sign_in(
            genauth_sdk(live_server, app), user)}},
        {"method": "phoneOrEmailBindable", "args": {"email": "not-an-address", "mfaToken": sign_in(
            genauth_sdk(live_server, app), user)}},
    ])
    assert confirmed["ok"] and confirmed["result"]["code"] == 200, confirmed
    assert mfa_status(live_server, user)["totpMfaEnabled"] is True
    assert not spent["ok"] and spent["error"]["code"] == 2021, spent  # the confirm finished the sign-in
    assert bindable == {"ok": True, "result": {"result": True}}, bindable
    assert not_bindable == {"ok": True, "result": {"result": False}}, not_bindable

    # the bound authenticator finishes the next sign-in; the confirming code is spent
    again = sign_in(genauth_sdk(live_server, app), user)
    replayed, authenticators = run(js_sdk, live_server, app, [
        {"method": "verifyTotpMfa", "args": {"totp": code, "mfaToken": again}},
        {"method": "getMfaAuthenticators", "args": {"type": "totp", "mfaToken": again, "source": "APPLICATION"}},
    ])
    assert not replayed["ok"] and replayed["error"]["code"] == 6001, replayed
    (bound,) = authenticators["result"]
    assert bound["enable"] is True and bound["userId"] == user["userId"] and "secret" not in bound
