"""The MFA status model and the rules that decide what a sign-in must challenge (no I/O).

Vocabulary (docs/mfa-status.md explains it for administrators):

* A **factor** is one of ``OTP`` (authenticator app, TOTP), ``SMS``, ``EMAIL``, ``FACE``.
* A user's **MFA status** is what ``set-mfa-status`` stores: a *policy list* (``applicationMfa``: factor,
  on/off, order), the switches ``totpMfaEnabled``/``faceMfaEnabled`` and the code targets
  ``mfaPhone``/``mfaEmail``.  A write replaces the whole status.
* A factor is **enabled** for the user when its policy entry has ``status`` 1, or (OTP, FACE) when its
  switch is true.  It is **bound** when the user has what it needs: a TOTP secret, a phone, an email.
* For an application, the **required factors** are the user's enabled factors that the application
  enables, ordered by ``sort``.  A sign-in challenges them in that order; an enabled but unbound
  factor must be enrolled first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Factor(StrEnum):
    OTP = "OTP"
    SMS = "SMS"
    EMAIL = "EMAIL"
    FACE = "FACE"


ALL_FACTORS: tuple[Factor, ...] = (Factor.OTP, Factor.SMS, Factor.EMAIL, Factor.FACE)
_SWITCHED = {Factor.OTP: "totp_enabled", Factor.FACE: "face_enabled"}


@dataclass(frozen=True)
class PolicyEntry:
    factor: Factor
    enabled: bool
    sort: int


@dataclass(frozen=True)
class MfaStatus:
    policies: tuple[PolicyEntry, ...] = ()
    totp_enabled: bool = False
    face_enabled: bool = False
    mfa_phone: str | None = None
    mfa_phone_country_code: str | None = None
    mfa_email: str | None = None
    version: int = 0

    def is_enabled(self, factor: Factor) -> bool:
        """Whether the user is to be challenged with ``factor`` (policy entry on, or its switch on)."""
        for entry in self.policies:
            if entry.factor is factor:
                return entry.enabled
        switch = _SWITCHED.get(factor)
        return bool(switch and getattr(self, switch))

    def enabled_factors(self) -> list[Factor]:
        """Enabled factors in challenge order: policy entries by ``sort`` (stable), then switches."""
        ordered = [e.factor for e in sorted(self.policies, key=lambda e: e.sort) if e.enabled]
        for factor in (Factor.OTP, Factor.FACE):
            if factor not in ordered and self.is_enabled(factor):
                ordered.append(factor)
        return ordered

    @property
    def any_enabled(self) -> bool:
        return bool(self.enabled_factors())

    # ------------------------------------------------------------------------- stored document
    def to_document(self) -> dict[str, Any]:
        return {
            "applicationMfa": [
                {"mfaPolicy": str(e.factor), "status": int(e.enabled), "sort": e.sort} for e in self.policies
            ],
            "totpMfaEnabled": self.totp_enabled,
            "faceMfaEnabled": self.face_enabled,
            "mfaPhone": self.mfa_phone,
            "mfaPhoneCountryCode": self.mfa_phone_country_code,
            "mfaEmail": self.mfa_email,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any], version: int) -> MfaStatus:
        return cls(
            policies=tuple(
                PolicyEntry(Factor(p["mfaPolicy"]), bool(p["status"]), int(p["sort"]))
                for p in doc.get("applicationMfa", [])
            ),
            totp_enabled=bool(doc.get("totpMfaEnabled")),
            face_enabled=bool(doc.get("faceMfaEnabled")),
            mfa_phone=doc.get("mfaPhone"),
            mfa_phone_country_code=doc.get("mfaPhoneCountryCode"),
            mfa_email=doc.get("mfaEmail"),
            version=version,
        )

    def with_version(self, version: int) -> MfaStatus:
        return replace(self, version=version)


def default_status(pool_factors: list[Factor], has_totp_secret: bool) -> MfaStatus:
    """The status of a user nobody has set: the pool's factors listed, all off except TOTP, which is
    on exactly when a secret is bound (entry and switch agree, so the default can be written back)."""
    return MfaStatus(
        policies=tuple(
            PolicyEntry(f, f is Factor.OTP and has_totp_secret, i) for i, f in enumerate(pool_factors)
        ),
        totp_enabled=has_totp_secret,
    )


@dataclass(frozen=True)
class Bindings:
    """What the user actually has for each factor."""

    has_totp_secret: bool
    phone: str | None
    email: str | None
    has_face: bool = False

    def is_bound(self, factor: Factor) -> bool:
        return {
            Factor.OTP: self.has_totp_secret,
            Factor.SMS: self.phone is not None,
            Factor.EMAIL: self.email is not None,
            Factor.FACE: self.has_face,
        }[factor]


def bindings_for(
    status: MfaStatus,
    has_totp_secret: bool,
    user_phone: str | None,
    user_phone_cc: str | None,
    user_email: str | None,
) -> Bindings:
    """Codes go to ``mfaPhone``/``mfaEmail`` when set, else to the user's own phone/email."""
    phone = (
        f"{status.mfa_phone_country_code or user_phone_cc or ''}{status.mfa_phone}"
        if status.mfa_phone
        else (f"{user_phone_cc or ''}{user_phone}" if user_phone else None)
    )
    return Bindings(has_totp_secret, phone, status.mfa_email or user_email)


def factor_states(status: MfaStatus, bindings: Bindings) -> dict[Factor, bool]:
    """``get-user-mfa-info``: a factor is usable ("enabled") when it is both enabled and bound."""
    return {f: status.is_enabled(f) and bindings.is_bound(f) for f in ALL_FACTORS}


@dataclass(frozen=True)
class Challenge:
    factor: Factor
    needs_enrolment: bool


@dataclass(frozen=True)
class Requirement:
    """What a sign-in to one application must challenge, in order."""

    challenges: list[Challenge] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return bool(self.challenges)


def evaluate(status: MfaStatus, app_factors: list[Factor], bindings: Bindings) -> Requirement:
    allowed = set(app_factors)
    return Requirement(
        [Challenge(f, not bindings.is_bound(f)) for f in status.enabled_factors() if f in allowed]
    )


def for_application(status: MfaStatus, app_factors: list[Factor]) -> MfaStatus:
    """The status restricted to the factors an application enables (``get-mfa-trigger-data``)."""
    allowed = set(app_factors)
    policies = tuple(sorted((e for e in status.policies if e.factor in allowed), key=lambda e: e.sort))
    return replace(
        status,
        policies=policies,
        totp_enabled=status.is_enabled(Factor.OTP) and Factor.OTP in allowed,
        face_enabled=status.is_enabled(Factor.FACE) and Factor.FACE in allowed,
    )
