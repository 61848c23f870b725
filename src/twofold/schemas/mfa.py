"""Wire schemas of the MFA management endpoints (docs/wire.md#mfa-endpoints, #mfa-dtos).

Each request model that a service consumes has ``to_command()``: services take domain commands only."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool

from twofold.domain.commands import (
    CreateApplicationInput,
    OtpImportInput,
    OtpInput,
    PolicyInput,
    TriggerDataInput,
)
from twofold.schemas.common import (
    CountryCodeText,
    EmailText,
    PageNumber,
    PageSize,
    PhoneText,
    ShortText,
    StrictInt32,
    Text,
    UserRefText,
    WireModel,
    WordText,
)

Factors = Annotated[list[WordText], Field(max_length=10)]


class ApplicationMfaInput(WireModel):
    mfa_policy: WordText
    status: StrictInt32
    sort: StrictInt32


class MfaTriggerDataInput(WireModel):
    mfa_token: Annotated[str, Field(max_length=4000)] | None = None  # required by set-mfa-status
    application_mfa: Annotated[list[ApplicationMfaInput], Field(max_length=20)]
    mfa_phone: PhoneText | None = None
    mfa_phone_country_code: CountryCodeText | None = None
    mfa_email: EmailText | None = None
    nickname: ShortText | None = None
    username: ShortText | None = None
    phone: PhoneText | None = None
    phone_country_code: CountryCodeText | None = None
    face_mfa_enabled: StrictBool | None = None
    totp_mfa_enabled: StrictBool | None = None

    def to_command(self) -> TriggerDataInput:
        return TriggerDataInput(
            application_mfa=tuple(PolicyInput(p.mfa_policy, p.status, p.sort) for p in self.application_mfa),
            mfa_token=self.mfa_token,
            mfa_phone=self.mfa_phone,
            mfa_phone_country_code=self.mfa_phone_country_code,
            mfa_email=self.mfa_email,
            nickname=self.nickname,
            username=self.username,
            phone=self.phone,
            phone_country_code=self.phone_country_code,
            face_mfa_enabled=self.face_mfa_enabled,
            totp_mfa_enabled=self.totp_mfa_enabled,
        )


class SetMfaStatusRequest(WireModel):
    mfa_trigger_data: MfaTriggerDataInput
    user_id: UserRefText
    user_id_type: WordText | None = None
    version: StrictInt32 | None = Field(default=None, description="Twofold extension: optimistic concurrency")


class MfaStatusQuery(WireModel):
    user_id: UserRefText | None = None
    user_id_type: WordText | None = None


class TriggerDataQuery(MfaStatusQuery):
    app_id: ShortText | None = None


class UpdateApplicationMfaRequest(WireModel):
    app_id: ShortText
    enabled_factors: Factors | None = None
    disabled_factors: Factors | None = None


class UpdateGlobalMfaRequest(WireModel):
    enabled_factors: Factors


class DisableGlobalMfaRequest(WireModel):
    disable_factors: Factors


class OtpItemData(WireModel):
    secret: ShortText
    recovery_code: ShortText | None = None


class OtpItem(WireModel):
    user_id: ShortText
    otp: OtpItemData


class ImportOtpRequest(WireModel):
    items: Annotated[list[OtpItem], Field(alias="list", max_length=1000)]

    def to_command(self) -> list[OtpImportInput]:
        return [OtpImportInput(i.user_id, OtpInput(i.otp.secret, i.otp.recovery_code)) for i in self.items]


class CreateApplicationRequest(WireModel):
    app_name: ShortText
    app_identifier: ShortText | None = None
    app_logo: Text | None = None
    app_description: Text | None = None
    app_type: WordText | None = None
    default_protocol: WordText | None = None
    redirect_uris: Annotated[list[Text], Field(max_length=100)] | None = None
    logout_redirect_uris: Annotated[list[Text], Field(max_length=100)] | None = None
    init_login_uri: Text | None = None
    template: ShortText | None = None
    template_data: Any = None

    def to_command(self) -> CreateApplicationInput:
        return CreateApplicationInput(
            app_name=self.app_name,
            app_identifier=self.app_identifier,
            app_logo=self.app_logo,
            app_description=self.app_description,
            app_type=self.app_type,
            default_protocol=self.default_protocol,
            redirect_uris=tuple(self.redirect_uris or ()),
            logout_redirect_uris=tuple(self.logout_redirect_uris or ()),
            init_login_uri=self.init_login_uri,
            template=self.template,
        )


class AppIdQuery(WireModel):
    app_id: ShortText | None = None


class ListApplicationsQuery(WireModel):
    page: PageNumber = 1
    limit: PageSize = 10
    keywords: ShortText | None = None
