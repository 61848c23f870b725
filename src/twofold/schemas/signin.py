"""Wire models of sign-in and the token endpoints (docs/wire.md#signin, docs/signin.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from twofold.domain.signin import PasscodeSignIn, PasswordSignIn
from twofold.schemas.common import (
    CountryCodeText,
    EmailText,
    Flag,
    Int64,
    PageNumber,
    PageSize,
    PhoneText,
    ShortText,
    Text,
    WireModel,
    WordText,
)


class PasswordPayload(WireModel):
    password: Text | None = None
    email: EmailText | None = None
    username: ShortText | None = None
    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None
    account: ShortText | None = None


class PassCodePayload(WireModel):
    pass_code: WordText | None = None
    email: EmailText | None = None
    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None  # the Python SDK sends null


class SignInOptions(WireModel):
    scope: ShortText | None = None
    client_ip: ShortText | None = None
    context: dict[str, Any] | None = None
    tenant_id: ShortText | None = None
    custom_data: dict[str, Any] | None = None
    auto_register: Flag = None
    captcha_code: ShortText | None = None
    captcha_token: Text | None = None
    password_encrypt_type: WordText | None = None


class SignInRequest(WireModel):
    connection: WordText
    password_payload: PasswordPayload | None = None
    pass_code_payload: PassCodePayload | None = None
    ldap_payload: dict[str, Any] | None = None
    ad_payload: dict[str, Any] | None = None
    options: SignInOptions | None = None
    # snake case inside a camel-case body (docs/wire.md#rule-24)
    client_id: ShortText | None = Field(default=None, alias="client_id")
    client_secret: ShortText | None = Field(default=None, alias="client_secret")

    def to_command(self) -> PasswordSignIn | PasscodeSignIn | None:
        """The payload of the ``connection`` (None when it is missing)."""
        return self.to_passcode_command() if self.connection == "PASSCODE" else self.to_password_command()

    def to_passcode_command(self) -> PasscodeSignIn | None:
        payload, options = self.pass_code_payload, self.options
        if payload is None:
            return None
        return PasscodeSignIn(
            pass_code=payload.pass_code,
            email=payload.email,
            phone=payload.phone,
            phone_country_code=payload.phone_country_code,
            scope=options.scope if options else None,
        )

    def to_password_command(self) -> PasswordSignIn | None:
        payload, options = self.password_payload, self.options
        if payload is None:
            return None
        return PasswordSignIn(
            password=payload.password,
            email=payload.email,
            username=payload.username,
            phone=payload.phone,
            phone_country_code=payload.phone_country_code,
            account=payload.account,
            scope=options.scope if options else None,
            password_encrypt_type=options.password_encrypt_type if options else None,
        )


class RotateApplicationSecretRequest(WireModel):
    app_id: ShortText | None = None


class SetApplicationAuthMethodRequest(WireModel):
    app_id: ShortText | None = None
    token_endpoint_auth_method: WordText | None = None


class ProfileQuery(WireModel):
    with_custom_data: Flag = None
    with_identities: Flag = None


class MyLoginHistoryQuery(WireModel):
    """``get-my-login-history`` (the user's access token names the user)."""

    app_id: ShortText | None = None
    client_ip: ShortText | None = None
    success: Flag = None
    start: Int64 | None = None
    end: Int64 | None = None
    page: PageNumber = 1
    limit: PageSize = 10


class TokenForm(WireModel):
    """``/oidc/token``, ``/oidc/token/introspection``, ``/oidc/token/revocation`` (form or JSON)."""

    grant_type: WordText | None = Field(default=None, alias="grant_type")
    refresh_token: Text | None = Field(default=None, alias="refresh_token")
    token: Text | None = None
    token_type_hint: WordText | None = Field(default=None, alias="token_type_hint")
    client_id: ShortText | None = Field(default=None, alias="client_id")
    client_secret: ShortText | None = Field(default=None, alias="client_secret")
    scope: ShortText | None = None


class MfaTotpVerifyRequest(WireModel):
    """``mfa-totp-verify``: the code of the user's authenticator app."""

    totp: WordText
