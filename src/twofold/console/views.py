"""What the user pages show, read through the services: MFA badges, the user's page, the editor's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twofold.domain.commands import PolicyInput, TriggerDataInput
from twofold.domain.mfa import ALL_FACTORS, Factor, MfaStatus, bindings_for, factor_states
from twofold.domain.users import User
from twofold.errors import InvalidParameter
from twofold.services.container import Services
from twofold.services.login_history import LoginEntry, LoginQuery
from twofold.services.mfa import UserMfa
from twofold.services.mfa_admin import FactorLock

# set-mfa-status requires a non-empty mfaToken on the wire (GenAuth's rule); it is checked, never
# stored, so the console's write names itself there.
CONSOLE_MFA_TOKEN = "twofold-console"  # noqa: S105 - a marker, not a secret
FIELDS = {  # the service's field paths -> the editor's inputs
    "mfaTriggerData.mfaPhone": "mfa_phone",
    "mfaTriggerData.mfaPhoneCountryCode": "mfa_phone_country_code",
    "mfaTriggerData.mfaEmail": "mfa_email",
    "mfaTriggerData.totpMfaEnabled": "totp_enabled",
    "mfaTriggerData.faceMfaEnabled": "face_enabled",
}


@dataclass(frozen=True)
class Badges:
    required: bool
    challenged: list[Factor]
    enrolled: list[Factor]


def badges(state: UserMfa) -> Badges:
    return Badges(state.status.requires_mfa, state.status.challenged_factors(), enrolled_factors(state))


def enrolled_factors(state: UserMfa) -> list[Factor]:
    user = state.user
    bindings = bindings_for(
        state.status, state.has_totp_secret, user.phone, user.phone_country_code, user.email
    )
    states = factor_states(state.status, bindings)
    return [f for f in ALL_FACTORS if states[f]]


@dataclass
class FactorRow:
    factor: str
    on: bool
    sort: str


@dataclass
class Editor:
    """The editor's values: the stored status, or what the admin sent when it was refused."""

    factors: list[FactorRow]
    totp_enabled: bool
    face_enabled: bool
    mfa_phone: str
    mfa_phone_country_code: str
    mfa_email: str
    version: int
    errors: dict[str, str] = field(default_factory=dict)
    general_error: str | None = None


def editor_of(status: MfaStatus) -> Editor:
    """Every factor has a row: the policy's in their order, then the others (off)."""
    listed = sorted(status.policies, key=lambda e: e.sort)
    rows = [FactorRow(str(e.factor), e.enabled, str(e.sort)) for e in listed]
    next_sort = max((e.sort for e in listed), default=-1) + 1
    for f in ALL_FACTORS:
        if all(r.factor != f for r in rows):
            rows.append(FactorRow(str(f), False, str(next_sort)))
            next_sort += 1
    return Editor(
        rows,
        status.totp_enabled,
        status.face_enabled,
        status.mfa_phone or "",
        status.mfa_phone_country_code or "",
        status.mfa_email or "",
        status.version,
    )


def editor_from_form(form: dict[str, str]) -> Editor:
    order = [f for f in form.get("factors", "").split(",") if f in set(ALL_FACTORS)] or list(ALL_FACTORS)
    rows = [FactorRow(f, form.get(f"{f}_on") == "1", form.get(f"{f}_sort", "").strip()) for f in order]
    try:
        version = int(form.get("version", "0"))
    except ValueError:
        version = -1
    return Editor(
        rows,
        form.get("totp_enabled") == "1",
        form.get("face_enabled") == "1",
        form.get("mfa_phone", ""),
        form.get("mfa_phone_country_code", ""),
        form.get("mfa_email", ""),
        version,
    )


def trigger_data(editor: Editor) -> TriggerDataInput:
    """The editor as set-mfa-status input; a sort that is not a whole number is refused here, as the
    management API's schema would, with the same field path."""
    policies = []
    for index, row in enumerate(editor.factors):
        try:
            sort = int(row.sort)
        except ValueError:
            raise InvalidParameter(
                f"mfaTriggerData.applicationMfa[{index}].sort", "expected a whole number"
            ) from None
        policies.append(PolicyInput(row.factor, int(row.on), sort))
    return TriggerDataInput(
        application_mfa=tuple(policies),
        mfa_token=CONSOLE_MFA_TOKEN,
        mfa_phone=editor.mfa_phone,
        mfa_phone_country_code=editor.mfa_phone_country_code,
        mfa_email=editor.mfa_email,
        totp_mfa_enabled=editor.totp_enabled,
        face_mfa_enabled=editor.face_enabled,
    )


def field_of(editor: Editor, path: str) -> str | None:
    """The editor input a service error names, if any."""
    if path in FIELDS:
        return FIELDS[path]
    prefix = "mfaTriggerData.applicationMfa["
    if path.startswith(prefix):
        index_text, _, rest = path[len(prefix) :].partition("]")
        if index_text.isdigit() and int(index_text) < len(editor.factors):
            row = editor.factors[int(index_text)]
            return f"{row.factor}_sort" if rest == ".sort" else f"{row.factor}_on"
    return None


def profile_rows(user: User) -> list[tuple[str, Any]]:
    return [
        ("User ID", user.id),
        ("Username", user.username),
        ("Email", user.email),
        ("Phone", f"{user.phone_country_code or ''} {user.phone}".strip() if user.phone else None),
        ("External ID", user.external_id),
        ("Name", user.name),
        ("Nickname", user.nickname),
        ("Status", str(user.status)),
    ]


@dataclass
class UserPage:
    state: UserMfa
    badges: Badges
    locks: list[FactorLock]
    events: list[Any]
    logins: list[LoginEntry]
    last_uses: list[tuple[Factor, int | None]]  # each enrolled factor and when it was last verified


LOGIN_HISTORY_SIZE = 10


async def user_page(services: Services, pool_id: str, user_id: str) -> UserPage:
    state = await services.mfa.get_status(pool_id, user_id, "user_id")
    _, locks = await services.mfa_admin.lock_status(pool_id, user_id, "user_id")
    events = await services.audit.list_events(pool_id, user_id=user_id, limit=20)
    logins, _ = await services.login_history.list_for_user(
        pool_id, user_id, "user_id", LoginQuery(limit=LOGIN_HISTORY_SIZE)
    )
    used = await services.mfa_overview.last_uses(pool_id, state.user.id)
    shown = badges(state)
    last_uses = [(f, used.get(f)) for f in shown.enrolled]
    return UserPage(state, shown, locks, events, logins, last_uses)
