"""The MFA status model and the rules that decide what a sign-in challenges (no I/O).

Vocabulary (docs/mfa-status.md explains it for administrators):

* A **factor** is one of ``OTP`` (authenticator app, TOTP), ``SMS``, ``EMAIL``, ``FACE``.
* A user's **MFA status** is what ``set-mfa-status`` stores: the **policy** (``applicationMfa``: factor,
  on/off, order), the **enrolment flags** ``totpMfaEnabled``/``faceMfaEnabled`` and the code targets
  ``mfaPhone``/``mfaEmail``.  A write replaces the whole status.
* A factor is **bound** when the user really has what it needs: a TOTP secret, a phone, an email, a face.
* Three rules, as GenAuth's login UI reads the same data:

  1. the policy alone decides what a sign-in challenges (a flag never adds a challenge);
  2. a challenged factor is **verified** when it is enrolled, else **enrolled** first; OTP and FACE are
     enrolled when their flag is true *and* they are bound, SMS and EMAIL (which have no flag) when bound;
  3. so a flag alone never makes a factor satisfiable without its secret.
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
FLAGGED: tuple[Factor, ...] = (Factor.OTP, Factor.FACE)
"""The factors with an enrolment flag (``totpMfaEnabled``, ``faceMfaEnabled``)."""


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

    def challenged_factors(self) -> list[Factor]:
        """What the policy challenges, in order: the entries that are on, by ``sort`` (ties keep their order)."""
        return [e.factor for e in sorted(self.policies, key=lambda e: e.sort) if e.enabled]

    @property
    def requires_mfa(self) -> bool:
        """The policy challenges at least one factor."""
        return any(e.enabled for e in self.policies)

    def flag(self, factor: Factor) -> bool | None:
        """The enrolment flag of ``factor``; None for the factors that have none (SMS, EMAIL)."""
        if factor is Factor.OTP:
            return self.totp_enabled
        if factor is Factor.FACE:
            return self.face_enabled
        return None

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
    """The status of a user nobody has set: the pool's factors listed in its order, all off except OTP
    when a TOTP secret is bound, whose flag then says "enrolled".  A bound authenticator is therefore
    challenged and verified; the default is a valid write, so it can be read, changed and written back."""
    return MfaStatus(
        policies=tuple(
            PolicyEntry(f, f is Factor.OTP and has_totp_secret, i) for i, f in enumerate(pool_factors)
        ),
        totp_enabled=has_totp_secret,
    )


def default_flag(factor: Factor, bound: bool) -> bool:
    """A flag the caller left out: it says what is true, i.e. whether the factor is bound."""
    return factor in FLAGGED and bound


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


def is_enrolled(status: MfaStatus, bindings: Bindings, factor: Factor) -> bool:
    """Whether ``factor`` can be verified now (else it must be enrolled first): bound, and for OTP and
    FACE also flagged.  A flag without the binding is never enough."""
    flag = status.flag(factor)
    return bindings.is_bound(factor) and (flag is None or flag)


def factor_states(status: MfaStatus, bindings: Bindings) -> dict[Factor, bool]:
    """``get-user-mfa-info``: for each factor, whether the user has it enrolled (see ``is_enrolled``).
    The policy plays no part: it says what is challenged, not what is bound."""
    return {f: is_enrolled(status, bindings, f) for f in ALL_FACTORS}


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
    """The policy's challenged factors that the application offers, in order; each is verified when
    enrolled, else enrolled first."""
    allowed = set(app_factors)
    return Requirement(
        [
            Challenge(f, not is_enrolled(status, bindings, f))
            for f in status.challenged_factors()
            if f in allowed
        ]
    )


def for_application(status: MfaStatus, app_factors: list[Factor]) -> MfaStatus:
    """The status as one application sees it (``get-mfa-trigger-data``): only the policy entries of the
    factors the application offers, ordered by ``sort``.  The flags and targets are the user's, as set."""
    allowed = set(app_factors)
    policies = tuple(sorted((e for e in status.policies if e.factor in allowed), key=lambda e: e.sort))
    return replace(status, policies=policies)
