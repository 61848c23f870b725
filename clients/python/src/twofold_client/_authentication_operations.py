"""Every end-user endpoint the ``AuthenticationClient`` calls, once: request and how to read the answer.

Each builder returns an :class:`AuthOperation` and does no I/O; ``AuthenticationClient`` and
``AsyncAuthenticationClient`` only send it (with the retry rule of ``_transport``) and call its
``decode``. Four kinds of answer are read here:

* the v3 envelope (``decode_envelope``: statusCode 200, else the mapped :class:`ApiError`);
* the sign-in, where statusCode 302 with apiCode 1636 is not an error but an :class:`MfaChallenge`;
* the v2 MFA step, whose success is ``code: 200`` next to ``statusCode: 302, apiCode: 1600``;
* the standard ``/oidc`` endpoints: plain JSON with the HTTP status, RFC 6749 errors.

The code endpoints (send-sms, the passcode sign-in, the SMS/email MFA step, the factors, the login
history, the mfaToken introspection) are in ``_authentication_codes``. To add an endpoint, add a
builder to one of the two and one method to each client face; the client authentication
(:class:`ClientAuth`) and decoders are reused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from twofold_client._authentication_models import (
    EnrolledFactor,
    Jwks,
    MfaChallenge,
    OpenIdConfiguration,
    PendingEnrollment,
    RecoveryCodeSignIn,
    SignInResult,
    TokenIntrospection,
    TokenSet,
)
from twofold_client._errors import TransportError, WrongCodeError, error_from_envelope, error_from_oauth
from twofold_client._models import Factor, User
from twofold_client._transport import decode_envelope

T = TypeVar("T")
AuthMethod = Literal["client_secret_post", "client_secret_basic", "none"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("client_secret_post", "client_secret_basic", "none")
MFA_REQUIRED_API_CODE = 1636
V2_SIGNED_IN_API_CODE = 1600
WRONG_TOTP_API_CODE = 6001


@dataclass(frozen=True)
class ClientAuth:
    """How the application authenticates itself (docs/signin.md#client-authentication)."""

    app_id: str
    app_secret: str | None = field(repr=False)
    method: AuthMethod

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ValueError("app_id is required")
        if self.method not in AUTH_METHODS:
            raise ValueError(f"token_endpoint_auth_method must be one of {AUTH_METHODS}, not {self.method!r}")
        if self.method != "none" and not self.app_secret:
            raise ValueError(
                f"{self.method} needs the application's app_secret (or use 'none' for a public app)"
            )

    def body(self) -> dict[str, str]:
        """What goes into the JSON body or form: ``client_id`` always, ``client_secret`` for post."""
        members = {"client_id": self.app_id}
        if self.method == "client_secret_post" and self.app_secret:
            members["client_secret"] = self.app_secret
        return members

    def headers(self) -> dict[str, str]:
        """RFC 6749 §2.3.1 Basic for ``client_secret_basic``: both parts form-urlencoded."""
        if self.method != "client_secret_basic" or not self.app_secret:
            return {}
        pair = f"{quote(self.app_id, safe='')}:{quote(self.app_secret, safe='')}"
        return {"authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


@dataclass(frozen=True)
class AuthOperation(Generic[T]):
    method: str
    path: str
    decode: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    # passwords, codes, secrets and tokens: never in a repr (tracebacks, logs)
    json_body: Mapping[str, Any] | None = field(default=None, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    idempotent: bool = False

    def build_request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = dict(self.headers)
        content: bytes | None = None
        if self.json_body is not None:
            content = json.dumps(self.json_body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["content-type"] = "application/json"
        elif self.form is not None:
            content = _form(self.form)
            headers["content-type"] = "application/x-www-form-urlencoded"
        return http.build_request(
            self.method, self.path, params=self.params or None, content=content, headers=headers
        )


def _form(values: Mapping[str, str]) -> bytes:
    return str(httpx.QueryParams(dict(values))).encode()


def _bearer(token: str) -> dict[str, str]:
    if not token:
        raise ValueError("a token is required")
    return {"authorization": f"Bearer {token}"}


def _parsed(what: str, parse: Callable[[Any], T], value: Any) -> T:
    try:
        return parse(value)
    except (ValueError, TypeError, KeyError) as exc:
        raise TransportError(f"unexpected data in the answer of {what}: {exc}") from exc


# ------------------------------------------------------------------------------------- decoders
def envelope_data(parse: Callable[[Any], T], what: str) -> Callable[[httpx.Response], T]:
    def decode(response: httpx.Response) -> T:
        return _parsed(what, parse, decode_envelope(response).get("data"))

    return decode


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransportError(
            f"HTTP {response.status_code}: the response is not JSON", http_status=response.status_code
        ) from None
    if not isinstance(body, dict):
        raise TransportError(
            f"HTTP {response.status_code}: the response is not a JSON object",
            http_status=response.status_code,
        )
    return body


def _signin(response: httpx.Response) -> SignInResult:
    body = _json_object(response)
    if body.get("apiCode") == MFA_REQUIRED_API_CODE and body.get("statusCode") != 200:
        return SignInResult(mfa=_parsed("signin", MfaChallenge.model_validate, body.get("data")))
    data = decode_envelope(response).get("data")
    return SignInResult(tokens=_parsed("signin", TokenSet.model_validate, data))


def _v2_signed_in(response: httpx.Response) -> dict[str, Any]:
    """A v2 step's ``data``: success is ``code: 200`` (statusCode 302, apiCode 1600); errors carry their
    apiCode as ``code`` and are mapped like v3 ones."""
    body = _json_object(response)
    if body.get("code") == 200 and body.get("apiCode") == V2_SIGNED_IN_API_CODE:
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransportError("v2 sign-in answer without data", http_status=response.status_code)
        return {**data, "recoveryCode": body.get("recoveryCode", data.get("recoveryCode"))}
    if isinstance(body.get("statusCode"), int) and body["statusCode"] != 200:
        if not isinstance(body.get("requestId"), str) and "x-request-id" in response.headers:
            body = {**body, "requestId": response.headers["x-request-id"]}
        raise error_from_envelope(body)
    raise TransportError("unexpected answer to a v2 MFA step", http_status=response.status_code)


def _oauth(parse: Callable[[Any], T], what: str) -> Callable[[httpx.Response], T]:
    def decode(response: httpx.Response) -> T:
        if response.is_success:
            return _parsed(what, parse, _json_object(response) if response.content.strip() else None)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TransportError(f"HTTP {response.status_code} from {what}", http_status=response.status_code)
        raise error_from_oauth(response.status_code, body, response.headers.get("x-request-id"))

    return decode


# -------------------------------------------------------------------------------------- sign-in
def sign_in(
    client: ClientAuth,
    connection: str,
    payload_key: str,
    payload: Mapping[str, Any],
    scope: str | None,
) -> AuthOperation[SignInResult]:
    """``POST /api/v3/signin`` for any connection: ``payload_key`` is ``passwordPayload``,
    ``passCodePayload``, ...; the client's credentials go as it is configured."""
    body: dict[str, Any] = {
        "connection": connection,
        payload_key: {k: v for k, v in payload.items() if v is not None},
        **client.body(),
    }
    if scope is not None:
        body["options"] = {"scope": scope}
    return AuthOperation("POST", "/api/v3/signin", _signin, json_body=body, headers=client.headers())


def sign_in_by_password(
    client: ClientAuth,
    password: str,
    email: str | None,
    username: str | None,
    phone: str | None,
    phone_country_code: str | None,
    account: str | None,
    scope: str | None,
) -> AuthOperation[SignInResult]:
    given = [
        name
        for name, v in (("email", email), ("username", username), ("phone", phone), ("account", account))
        if v
    ]
    if len(given) != 1:
        raise ValueError("give exactly one of email, username, phone, account")
    if not password:
        raise ValueError("password is required")
    payload = {
        "password": password,
        "email": email,
        "username": username,
        "phone": phone,
        "phoneCountryCode": phone_country_code,
        "account": account,
    }
    return sign_in(client, "PASSWORD", "passwordPayload", payload, scope)


# ------------------------------------------------------------------------------------- MFA step
def _token_set_of(data: Any) -> TokenSet:
    if not isinstance(data, dict) or not data.get("verified"):
        raise WrongCodeError(
            "The MFA code is incorrect", status_code=400, api_code=WRONG_TOTP_API_CODE, body={"data": data}
        )
    if not isinstance(data.get("tokenSet"), dict):
        raise ValueError("the code was right but no tokenSet came back: was the token an mfaToken?")
    return TokenSet.model_validate(data["tokenSet"])


def verify_totp(mfa_token: str, code: str) -> AuthOperation[TokenSet]:
    """``POST /api/v3/mfa-totp-verify`` with the mfaToken: a wrong code answers ``verified: false``,
    raised here as :class:`WrongCodeError` (what v2 answers as apiCode 6001)."""

    def decode(response: httpx.Response) -> TokenSet:
        data = decode_envelope(response).get("data")
        return _parsed("mfa-totp-verify", _token_set_of, data)

    return AuthOperation(
        "POST", "/api/v3/mfa-totp-verify", decode, json_body={"totp": code}, headers=_bearer(mfa_token)
    )


def _verified(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("verified"), bool):
        raise ValueError("expected data.verified to be a boolean")
    return bool(data["verified"])


def check_totp(access_token: str, code: str) -> AuthOperation[bool]:
    """``mfa-totp-verify`` with a user access token: only whether the code is right (it is spent)."""
    decode = envelope_data(_verified, "mfa-totp-verify")
    return AuthOperation(
        "POST", "/api/v3/mfa-totp-verify", decode, json_body={"totp": code}, headers=_bearer(access_token)
    )


def _recovery_sign_in(data: dict[str, Any]) -> RecoveryCodeSignIn:
    user = {
        k: v
        for k, v in data.items()
        if k not in ("user", "tokenSet", "token", "tokenExpiredAt", "recoveryCode")
    }
    return RecoveryCodeSignIn(
        tokens=TokenSet.model_validate(data["tokenSet"]),
        user=User.model_validate(user),
        new_recovery_code=str(data["recoveryCode"]),
    )


def verify_recovery_code(mfa_token: str, recovery_code: str) -> AuthOperation[RecoveryCodeSignIn]:
    """``POST /api/v2/mfa/totp/recovery``: a wrong or used code is apiCode 6002 (:class:`WrongCodeError`)."""

    def decode(response: httpx.Response) -> RecoveryCodeSignIn:
        return _parsed("mfa/totp/recovery", _recovery_sign_in, _v2_signed_in(response))

    body = {"recoveryCode": recovery_code}
    return AuthOperation(
        "POST", "/api/v2/mfa/totp/recovery", decode, json_body=body, headers=_bearer(mfa_token)
    )


# ------------------------------------------------------------------------------------ enrolment
def send_enroll_factor_request(
    token: str, factor_type: Factor | str, profile: Mapping[str, Any] | None
) -> AuthOperation[PendingEnrollment]:
    body = {"factorType": Factor(factor_type).value, "profile": dict(profile or {})}
    decode = envelope_data(PendingEnrollment.model_validate, "send-enroll-factor-request")
    return AuthOperation(
        "POST", "/api/v3/send-enroll-factor-request", decode, json_body=body, headers=_bearer(token)
    )


def enroll_factor(
    token: str, factor_type: Factor | str, enrollment_token: str, pass_code: str
) -> AuthOperation[None]:
    body = {
        "factorType": Factor(factor_type).value,
        "enrollmentToken": enrollment_token,
        "enrollmentData": {"passCode": pass_code},
    }
    decode = envelope_data(lambda data: None, "enroll-factor")
    return AuthOperation("POST", "/api/v3/enroll-factor", decode, json_body=body, headers=_bearer(token))


def _factor_list(data: Any) -> list[EnrolledFactor]:
    if not isinstance(data, list):
        raise ValueError("expected a list of enrolled factors")
    return [EnrolledFactor.model_validate(item) for item in data]


def list_enrolled_factors(access_token: str) -> AuthOperation[list[EnrolledFactor]]:
    decode = envelope_data(_factor_list, "list-enrolled-factors")
    return AuthOperation(
        "GET", "/api/v3/list-enrolled-factors", decode, headers=_bearer(access_token), idempotent=True
    )


# --------------------------------------------------------------------------------------- tokens
def get_profile(
    access_token: str, with_custom_data: bool | None, with_identities: bool | None
) -> AuthOperation[User]:
    params = tuple(
        (name, "true" if value else "false")
        for name, value in (("withCustomData", with_custom_data), ("withIdentities", with_identities))
        if value is not None
    )
    decode = envelope_data(User.model_validate, "get-profile")
    return AuthOperation(
        "GET", "/api/v3/get-profile", decode, params=params, headers=_bearer(access_token), idempotent=True
    )


def refresh_tokens(client: ClientAuth, refresh_token: str) -> AuthOperation[TokenSet]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **client.body()}
    return AuthOperation(
        "POST",
        "/oidc/token",
        _oauth(TokenSet.model_validate, "/oidc/token"),
        form=form,
        headers=client.headers(),
    )


def introspect_token(
    client: ClientAuth, token: str, token_type_hint: str | None
) -> AuthOperation[TokenIntrospection]:
    form = {"token": token, **client.body()}
    if token_type_hint:
        form["token_type_hint"] = token_type_hint
    decode = _oauth(TokenIntrospection.model_validate, "/oidc/token/introspection")
    # idempotent although a POST: introspection changes nothing
    return AuthOperation(
        "POST", "/oidc/token/introspection", decode, form=form, headers=client.headers(), idempotent=True
    )


def revoke_token(client: ClientAuth, token: str) -> AuthOperation[None]:
    form = {"token": token, **client.body()}
    decode = _oauth(lambda data: None, "/oidc/token/revocation")
    # revoking twice is revoking once (RFC 7009), so it may be retried
    return AuthOperation(
        "POST", "/oidc/token/revocation", decode, form=form, headers=client.headers(), idempotent=True
    )


def get_openid_configuration() -> AuthOperation[OpenIdConfiguration]:
    decode = _oauth(OpenIdConfiguration.model_validate, "openid-configuration")
    return AuthOperation("GET", "/oidc/.well-known/openid-configuration", decode, idempotent=True)


def get_jwks() -> AuthOperation[Jwks]:
    return AuthOperation(
        "GET", "/oidc/.well-known/jwks.json", _oauth(Jwks.model_validate, "jwks.json"), idempotent=True
    )
