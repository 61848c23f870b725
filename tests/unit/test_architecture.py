"""The layering of STYLE.md, pinned: domain is pure, nothing imports the API layer."""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import twofold.auth.signing

SRC = Path(__file__).resolve().parents[2] / "src" / "twofold"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_has_no_framework_or_storage_imports() -> None:
    for path in (SRC / "domain").rglob("*.py"):
        bad = {n for n in imports_of(path) if n.split(".")[0] in {"fastapi", "starlette", "sqlalchemy", "asyncpg"}
               or n.startswith(("twofold.api", "twofold.storage", "twofold.services"))}
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_outside_api_imports_api() -> None:
    allowed = {"api", "cli"}
    for path in SRC.rglob("*.py"):
        layer = path.relative_to(SRC).parts[0]
        if layer in allowed or layer == "logs.py":
            continue
        bad = {n for n in imports_of(path) if n.startswith("twofold.api")}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_services_do_not_import_http_frameworks() -> None:
    for path in (SRC / "services").rglob("*.py"):
        bad = {n for n in imports_of(path) if n.split(".")[0] in {"fastapi", "starlette"}}
        assert not bad, f"{path.name} imports {bad}"


def test_signing_docstring_example_runs() -> None:
    result = doctest.testmod(twofold.auth.signing)
    assert result.attempted > 0 and result.failed == 0
