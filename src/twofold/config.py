"""All configuration in one place (environment prefix ``TWOFOLD_``).

Settings are built once by the caller (the app factory or a CLI command), never at import time.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWOFOLD_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path/file.db or postgresql://user:pass@host:port/db; default: SQLite in data_dir",
    )
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    bootstrap_access_key_id: str | None = None
    bootstrap_access_key_secret: SecretStr | None = None

    bind_host: str = "127.0.0.1"  # TWOFOLD_HOST is the CLI client's server URL, not this
    port: int = 8080
    workers: int = 1
    # How long uvicorn's supervisor waits for a worker's health ping (its default, 5 s, kills and
    # restarts workers that are still importing on a loaded machine, over and over).
    worker_healthcheck_timeout_seconds: int = Field(default=60, ge=5, le=3600)
    # Limits at the edge (api/edge.py, docs/operations.md#limits-at-the-edge).
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=600)
    max_connections: int = Field(default=2048, ge=1)  # per worker: uvicorn's limit_concurrency
    # The load balancers whose X-Forwarded-For names the client (api/proxy.py, docs/deployment.md#client-addresses):
    # comma-separated addresses and networks.  Empty (the default): the header is ignored, the client is the peer.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line (logs.py)

    management_token_ttl_seconds: int = Field(default=7200, ge=60, le=86400)
    management_token_grace_seconds: int = Field(default=30, ge=0, le=600)
    signature_max_skew_seconds: int = Field(default=900, ge=1, le=3600)
    postgres_pool_size: int = Field(default=10, ge=1, le=200)
    # How often a process looks the keyring up again for a new active data key (docs/keys.md).
    keyring_refresh_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Bounds on PostgreSQL, so that a database that stops answering (a network path that drops every
    # packet) is answered DatabaseUnavailable (503/50301) in bounded time instead of hanging requests
    # (docs/reliability.md#outages): opening a connection, one statement (checked by the client, which
    # then drops the connection), and waiting for a pooled connection when all are busy.
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    database_statement_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # How long a SQLite write waits for the write lock (held by another process) before it fails
    # with DatabaseBusy (503) instead of hanging.
    sqlite_lock_wait_seconds: float = Field(default=5.0, gt=0, le=300)
    # The size of SQLite's WAL file past which the writer checkpoints it at once and empties it
    # (docs/reliability.md#sqlite-wal); it stays under this plus what is written while that runs,
    # unless a reader holds old frames (a long read transaction, a backup).
    sqlite_wal_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024 * 1024)

    # --- MFA code checks: failures and lockout (docs/mfa-status.md#lockout) ---
    # Every mfa_max_failures-th consecutive failure of a factor locks it for
    # min(base * 2 ** (lock number - 1), max) seconds.
    mfa_max_failures: int = Field(default=5, ge=1, le=1000)
    mfa_lockout_base_seconds: int = Field(default=60, ge=1, le=86400)
    mfa_lockout_max_seconds: int = Field(default=900, ge=1, le=30 * 86400)

    @model_validator(mode="after")
    def _lockout_cap_at_least_base(self) -> Settings:
        if self.mfa_lockout_max_seconds < self.mfa_lockout_base_seconds:
            raise ValueError("TWOFOLD_MFA_LOCKOUT_MAX_SECONDS must be at least TWOFOLD_MFA_LOCKOUT_BASE_SECONDS")
        return self

    # --- one-time codes and their delivery (docs/delivery.md) -------------------------------------
    # "production" refuses to serve while a channel has no transport (codes would go to the dev outbox).
    env: str = "development"
    passcode_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    passcode_max_attempts: int = Field(default=5, ge=1, le=20)
    passcode_send_interval_seconds: int = Field(default=60, ge=1, le=3600)  # per target
    passcode_ip_hourly_limit: int = Field(default=30, ge=1, le=1_000_000)  # sends per client IP
    passcode_pool_hourly_limit: int = Field(default=1000, ge=1, le=10_000_000)  # sends per user pool
    smtp_url: SecretStr | None = None  # smtp://user:pass@host:port (STARTTLS when offered) or smtps://
    smtp_from: str | None = None
    smtp_ca_file: Path | None = None  # extra CA bundle for the SMTP server's certificate
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    sms_webhook_url: str | None = None
    sms_webhook_secret: SecretStr | None = None
    sms_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    sms_webhook_attempts: int = Field(default=3, ge=1, le=10)
    sms_webhook_backoff_seconds: float = Field(default=0.5, ge=0, le=30)  # doubled after each failure

    @field_validator("smtp_url", "smtp_from", "sms_webhook_url", "sms_webhook_secret", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def is_production(self) -> bool:
        return self.env.strip().lower() == "production"
    # --- end of one-time codes and their delivery -----------------------------------------------

    # --- sign-in and end-user tokens (docs/signin.md) ---------------------------------------------
    # The issuer (``iss``) of access and ID tokens and the base of the discovery document's URLs;
    # default http://<bind_host>:<port>/oidc.  Set it to the public URL behind a proxy.
    issuer_url: str | None = None
    access_token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    id_token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=300, le=365 * 86400)
    # An mfaToken lives at most 5 minutes (issue 10); shorter is allowed.
    mfa_token_ttl_seconds: int = Field(default=300, ge=30, le=300)
    # Password sign-in throttling: failed attempts allowed per account and per client IP in a window
    # (0 = no limit).  Behind a proxy, forwarded_allow_ips names the proxy, or all clients share its address.
    signin_max_failures_per_account: int = Field(default=10, ge=0, le=1_000_000)
    signin_max_failures_per_ip: int = Field(default=100, ge=0, le=1_000_000)
    signin_throttle_window_seconds: int = Field(default=900, ge=1, le=86400)

    # --- Redis for the short-lived counters (docs/deployment.md#redis) ------------------------------
    # The send limits and sign-in throttles count in Redis when set (redis:// or rediss://, one server,
    # not Redis Cluster); unset: in the database.  A Redis that fails or answers slower than the
    # timeout is left for the database for retry seconds: a limit is never skipped.
    redis_url: SecretStr | None = None
    redis_timeout_seconds: float = Field(default=0.2, gt=0, le=10)
    redis_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    redis_key_prefix: str = Field(default="twofold:", max_length=64)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _no_redis_if_empty(cls, value: object) -> object:
        return None if value == "" else value

    # --- the admin console (docs/console.md) -------------------------------------------------------
    # A session ends after this long without a request, and in any case this long after sign-in.
    console_session_idle_seconds: int = Field(default=1800, ge=60, le=86400)
    console_session_max_seconds: int = Field(default=12 * 3600, ge=300, le=7 * 86400)
    # Failed console sign-ins allowed per access key id and per client IP in a window (0 = no limit).
    console_signin_max_failures_per_key: int = Field(default=10, ge=0, le=1_000_000)
    console_signin_max_failures_per_ip: int = Field(default=50, ge=0, le=1_000_000)
    console_signin_window_seconds: int = Field(default=900, ge=1, le=86400)
    # The overview's user counts are kept this long per process, so a big pool is not counted on
    # every view (0 = count on every view).
    console_counts_max_age_seconds: int = Field(default=60, ge=0, le=86400)

    # --- the audit trail's hash chain (docs/reliability.md#audit-chain) --------------------------
    # Every server process seals the events written since its last round this often; an event is
    # tamper-evident once sealed.
    audit_seal_interval_seconds: float = Field(default=1.0, gt=0, le=3600)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _addresses_or_networks(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        trusted = [str(item).strip() for item in items if str(item).strip()]
        for item in trusted:
            try:
                ipaddress.ip_network(item)  # an address is a network of one
            except ValueError as exc:
                raise ValueError(f"TWOFOLD_FORWARDED_ALLOW_IPS: {item!r} is not an IP address or network ({exc})") from None
        return trusted

    @field_validator("database_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'twofold.db').resolve()}"

    @property
    def resolved_issuer(self) -> str:
        """The ``iss`` of end-user tokens: ``issuer_url`` without a trailing slash, or the bound address."""
        if self.issuer_url:
            return self.issuer_url.rstrip("/")
        return f"http://{self.bind_host}:{self.port}/oidc"
