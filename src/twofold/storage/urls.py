"""Turn the database URL a user pastes into what each driver wants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_POSTGRES_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
}


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: str  # "sqlite" or "postgresql"
    sqlite_path: Path | None
    asyncpg_dsn: str | None
    sqlalchemy_url: str

    @classmethod
    def parse(cls, raw: str) -> DatabaseUrl:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme in ("sqlite", "sqlite+pysqlite"):
            path_text = raw.split("://", 1)[1]
            if path_text.startswith("/"):
                path_text = path_text[1:]
            if not path_text or path_text == ":memory:":
                raise ValueError("an in-memory SQLite database cannot be shared; give a file path")
            path = Path(path_text)
            return cls("sqlite", path, None, f"sqlite:///{path}")
        if scheme in _POSTGRES_SCHEMES:
            plain = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
            sa = urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, parts.query, ""))
            return cls("postgresql", None, plain, sa)
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}; use sqlite:/// or postgresql://")
