"""There is one way to write an MFA status (docs/mfa-status.md): ``mfa_repo.write``, called only
through ``services/mfa_writes.py``, which always hands it the audit event."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "twofold"
WRITES_SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE)\s+mfa_statuses\b", re.IGNORECASE)


def modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_only_the_mfa_repository_writes_the_table() -> None:
    writers = {p.relative_to(SRC).as_posix() for p in modules() if WRITES_SQL.search(p.read_text())}
    assert writers == {"storage/repositories/mfa.py"}


def test_the_repository_has_one_write_function_and_it_takes_the_audit_event() -> None:
    tree = ast.parse((SRC / "storage/repositories/mfa.py").read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}
    writing = [
        name
        for name, fn in functions.items()
        if WRITES_SQL.search(ast.unparse(fn)) or "_CAS" in ast.unparse(fn)
    ]
    assert writing == ["write"]
    audit = next(a for a in functions["write"].args.args if a.arg == "audit")
    assert audit.annotation is not None and ast.unparse(audit.annotation) == "AuditRow"


def test_only_mfa_writes_calls_the_write() -> None:
    callers = set()
    for path in modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "twofold.storage.repositories.mfa":
                assert "write" not in {a.name for a in node.names}, path
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "write"
                and ast.unparse(node.value) == "mfa_repo"
            ):
                callers.add(path.relative_to(SRC).as_posix())
    assert callers == {"services/mfa_writes.py"}
