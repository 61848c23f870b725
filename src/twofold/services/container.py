"""Builds the services once per process from settings: the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from twofold.auth.vault import derive_key, load_master_key
from twofold.config import Settings
from twofold.domain.lockout import LockoutPolicy
from twofold.services.access_keys import AccessKeyService
from twofold.services.app_secrets import AppSecretService
from twofold.services.applications import ApplicationService
from twofold.services.audit import AuditService
from twofold.services.audit_chain import AuditChain
from twofold.services.code_sends import CodeSendService
from twofold.services.console_sessions import ConsoleSessionService
from twofold.services.context import OTP_SECRET_READ, Clock, system_clock
from twofold.services.delivery import Delivery, OutboxService
from twofold.services.enrolment import EnrolmentService
from twofold.services.enrolment_codes import CodeEnrolment
from twofold.services.enrolment_common import Authoriser, FactorIds
from twofold.services.enrolment_factors import FactorService
from twofold.services.enrolment_v2 import V2Enrolment
from twofold.services.health import HealthService
from twofold.services.key_rotation import KeyRotation
from twofold.services.keyring import Keyring
from twofold.services.login_history import LoginHistoryService
from twofold.services.mfa import MfaService
from twofold.services.mfa_admin import MfaAdminService
from twofold.services.mfa_failures import MfaCheck
from twofold.services.mfa_overview import MfaOverviewService
from twofold.services.mfa_step import MfaStepService
from twofold.services.mfa_tickets import MfaTicketService
from twofold.services.passcodes import PasscodeService
from twofold.services.signin import SignInService
from twofold.services.signin_throttle import SignInThrottle, console_throttle
from twofold.services.tokens import TokenService
from twofold.services.totp_check import TotpChecker
from twofold.services.users import UserService
from twofold.storage.counters import Counters, open_counters
from twofold.storage.database import Database, Timeouts, open_database
from twofold.transports import build_delivery


@dataclass
class Services:
    db: Database
    keys: AccessKeyService
    users: UserService
    mfa: MfaService
    applications: ApplicationService
    audit: AuditService
    audit_chain: AuditChain  # seals the audit trail into each pool's hash chain, and verifies it
    health: HealthService
    mfa_check: MfaCheck  # the sign-in step's code checks (services/mfa_failures.py)
    mfa_admin: MfaAdminService
    mfa_overview: MfaOverviewService  # the console's adoption chart, locked factors, last uses
    passcodes: PasscodeService
    code_sends: CodeSendService  # who may be sent a code (send-sms, send-email, /api/v2/email/send)
    outbox: OutboxService
    delivery: Delivery
    app_secrets: AppSecretService
    tokens: TokenService
    mfa_tickets: MfaTicketService
    signin: SignInService
    mfa_step: MfaStepService  # the sign-in's MFA step (mfa-totp-verify)
    enrolment: EnrolmentService  # enrolling a factor (send-enroll-factor-request, enroll-factor)
    factors: FactorService  # the user's enrolled factors (list, get, reset, to enrol)
    enrolment_v2: V2Enrolment  # the v2 enrolment calls (authenticator, associate, confirm, check)
    login_history: LoginHistoryService  # get-user-login-history, get-my-login-history
    console: ConsoleSessionService  # the admin console's sign-in and sessions
    keyring: Keyring  # the data keys of the secrets at rest
    key_rotation: KeyRotation  # twofold keys rotate-master / status
    counters: Counters  # send limits and throttles: the database's, or Redis's (storage/counters.py)

    async def close(self) -> None:
        await self.audit_chain.close()
        await self.delivery.close()
        await self.counters.close()
        await self.db.close()


def _database_timeouts(settings: Settings) -> Timeouts:
    return Timeouts(
        settings.database_connect_timeout_seconds,
        settings.database_statement_timeout_seconds,
        settings.database_pool_timeout_seconds,
    )


async def build_services(settings: Settings, clock: Clock = system_clock) -> Services:
    """Raises ``MasterKeyError`` for an unusable master key and ``DatabaseUnavailable`` for a database
    that cannot be reached: both are startup errors."""
    master = load_master_key(settings)
    db = await open_database(
        settings.resolved_database_url,
        settings.postgres_pool_size,
        settings.sqlite_lock_wait_seconds,
        _database_timeouts(settings),
        settings.sqlite_wal_max_bytes,
    )
    try:
        box = Keyring(db, master, settings.keyring_refresh_seconds, clock)
        await box.load()  # a wrong operator secret does not unwrap the keyring: MasterKeyError
        return await _assemble(settings, clock, master, box, db)
    except BaseException:  # a startup error must not leave the pool open
        await db.close()
        raise


async def _assemble(
    settings: Settings, clock: Clock, master: bytes, box: Keyring, db: Database
) -> Services:
    keys = AccessKeyService(db, box, derive_key(master, "twofold/management-jwt/v1"), settings, clock)
    await keys.check_master_key()  # a changed key fails here, not as a 500 on some later request
    await box.ensure_active()  # only now: never a first data key wrapped under a wrong secret
    delivery = build_delivery(settings, db, box, clock)
    passcode_key = derive_key(master, "twofold/passcodes/v1")
    recovery_key = derive_key(master, "twofold/recovery-code/v1")
    users = UserService(db, box, clock, recovery_key)
    mfa = MfaService(db, box, clock, users, recovery_key)
    app_secrets = AppSecretService(db, derive_key(master, "twofold/app-secret/v1"), clock)
    tokens = TokenService(db, box, settings, clock)
    await tokens.load_keys()  # the first start generates the signing key pair
    tickets = MfaTicketService(
        db, derive_key(master, "twofold/mfa-token/v1"), tokens.issuer, settings.mfa_token_ttl_seconds, clock
    )
    mfa_check = MfaCheck(db, clock, TotpChecker(db, box, clock, recovery_key), lockout_policy(settings))
    mfa_admin = MfaAdminService(db, clock, users)
    mfa_admin.add_reset_hook(tokens.revoke_user_on_reset)  # a reset also ends the user's sign-ins
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    counters = open_counters(
        db, redis_url, derive_key(master, "twofold/counters/v1"), settings.redis_key_prefix,
        settings.redis_timeout_seconds, settings.redis_retry_seconds,
    )
    passcodes = PasscodeService(db, counters, delivery, passcode_key, settings, clock)
    throttle = SignInThrottle(counters, settings, clock)
    signin = SignInService(db, clock, app_secrets, mfa, tickets, tokens, throttle, passcodes)
    authoriser = Authoriser(tokens, tickets, mfa)
    factor_ids = FactorIds(derive_key(master, "twofold/factor-id/v1"))
    enrolment = EnrolmentService(
        db, box, clock, recovery_key, authoriser, CodeEnrolment(db, box, clock, passcodes, authoriser)
    )
    return Services(
        db=db,
        keys=keys,
        users=users,
        mfa=mfa,
        applications=ApplicationService(db, clock, app_secrets),
        audit=AuditService(db),
        audit_chain=AuditChain(db, derive_key(master, "twofold/audit-chain/v1"), clock),
        health=HealthService(db, settings.resolved_database_url, _database_timeouts(settings)),
        mfa_check=mfa_check,
        mfa_admin=mfa_admin,
        mfa_overview=MfaOverviewService(db, clock),
        passcodes=passcodes,
        code_sends=CodeSendService(db, clock, passcodes, app_secrets, tickets, tokens, mfa),
        outbox=OutboxService(db, box, clock),
        delivery=delivery,
        app_secrets=app_secrets,
        tokens=tokens,
        mfa_tickets=tickets,
        signin=signin,
        mfa_step=MfaStepService(tickets, mfa_check, tokens, mfa, users, signin, passcodes),
        enrolment=enrolment,
        factors=FactorService(db, clock, authoriser, factor_ids, mfa),
        enrolment_v2=V2Enrolment(db, clock, authoriser, factor_ids, enrolment, tickets, signin, users),
        login_history=LoginHistoryService(db),
        console=ConsoleSessionService(
            db,
            keys,
            console_throttle(counters, settings, clock),
            derive_key(master, "twofold/console-csrf/v1"),
            settings,
            clock,
        ),
        keyring=box,
        key_rotation=KeyRotation(db, box, clock),
        counters=counters,
    )


def lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        settings.mfa_max_failures,
        settings.mfa_lockout_base_seconds * 1000,
        settings.mfa_lockout_max_seconds * 1000,
    )


async def bootstrap(services: Services, settings: Settings) -> tuple[str, str, str] | None:
    """Make sure a default pool exists, and the bootstrap key if configured.

    Returns ``(pool_id, key_id, secret)`` when a first key was generated (to be shown once).
    """
    pool, _ = await services.keys.ensure_default_pool()
    if settings.bootstrap_access_key_id and settings.bootstrap_access_key_secret:
        await services.keys.ensure_key(
            pool.id,
            settings.bootstrap_access_key_id,
            settings.bootstrap_access_key_secret.get_secret_value(),
            [OTP_SECRET_READ],
        )
        return None
    if await services.keys.count_keys() == 0:
        key = await services.keys.create_key(pool.id, "first key", [OTP_SECRET_READ])
        return pool.id, key.id, key.secret
    return None
