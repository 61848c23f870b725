"""The layering of docs/architecture.md, pinned with no exemptions.

api (thin HTTP) -> services (use cases) -> domain (pure); storage behind repositories; nothing but the
HTTP layer (the management API, and the admin console beside it) imports it.  Imports are read with ``ast``, so a
lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Iterator
from pathlib import Path

import twofold.auth.signing

SRC = Path(__file__).resolve().parents[2] / "src" / "twofold"
MAX_LINES = 400
HTTP_FRAMEWORKS = {"fastapi", "starlette", "httpx", "uvicorn"}
DRIVERS = {"sqlite3", "asyncpg", "psycopg", "psycopg2", "redis"}
FRAMEWORKS = HTTP_FRAMEWORKS | DRIVERS | {"pydantic", "pydantic_settings", "sqlalchemy", "alembic", "typer", "rich"}


def modules(*layers: str) -> Iterator[Path]:
    for layer in layers or ("",):
        yield from sorted((SRC / layer).rglob("*.py"))


def layer_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports; ``from a import b`` counts as ``a`` and ``a.b``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            if node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def violations(paths: Iterator[Path], is_bad: object) -> list[str]:
    found = []
    for path in paths:
        bad = sorted(n for n in imports_of(path) if is_bad(n))  # type: ignore[operator]
        if bad:
            found.append(f"{path.relative_to(SRC)} imports {bad}")
    return found


def test_nothing_outside_the_http_layer_imports_it() -> None:
    outside = (p for p in modules() if layer_of(p) not in {"api", "console"})
    assert not (found := violations(outside, lambda n: within(n, "twofold.api"))), "\n".join(found)


def test_the_domain_is_pure() -> None:
    """No framework, driver, storage, services or schemas: only the domain itself and the errors."""

    def is_bad(name: str) -> bool:
        if top(name) in FRAMEWORKS:
            return True
        return within(name, "twofold") and not (
            name == "twofold" or within(name, "twofold.domain") or within(name, "twofold.errors")
        )

    assert not (found := violations(modules("domain"), is_bad)), "\n".join(found)


def test_services_import_no_http_framework() -> None:
    assert not (found := violations(modules("services"), lambda n: top(n) in HTTP_FRAMEWORKS)), "\n".join(found)


def test_services_import_no_wire_models() -> None:
    """Routers turn wire models into domain commands or plain arguments; services never see them."""
    assert not (found := violations(modules("services"), lambda n: within(n, "twofold.schemas"))), "\n".join(found)


def test_the_http_layers_import_no_storage() -> None:
    """The API and the admin console call services; neither reaches for a repository or a driver."""
    found = violations(modules("api", "console"), lambda n: within(n, "twofold.storage"))
    assert not found, "\n".join(found)


def test_database_drivers_are_imported_only_by_storage() -> None:
    outside = (p for p in modules() if layer_of(p) != "storage")
    assert not (found := violations(outside, lambda n: top(n) in DRIVERS)), "\n".join(found)


def test_no_module_is_over_400_lines() -> None:
    migrations = SRC / "storage" / "migrations"
    too_long = [
        f"{path.relative_to(SRC)}: {count} lines"
        for path in modules()
        if migrations not in path.parents and (count := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not too_long, "\n".join(too_long)


def test_the_rules_see_what_they_check() -> None:
    """The checks above are not vacuous: the layers exist and the import reader finds imports."""
    for layer in ("api", "console", "services", "domain", "storage", "cli"):
        assert any(modules(layer)), layer
    assert "twofold.api.routing.LeanRoute" in imports_of(SRC / "api" / "v3" / "health.py")
    assert "asyncpg" in imports_of(SRC / "storage" / "postgres.py")
    assert "twofold.services.container.Services" in imports_of(SRC / "console" / "web.py")


def test_signing_docstring_example_runs() -> None:
    result = doctest.testmod(twofold.auth.signing)
    assert result.attempted > 0 and result.failed == 0
