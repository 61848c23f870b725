"""There is one way to write an MFA status (docs/mfa-status.md): ``mfa_repo.write``, or ``write_direct``
when nothing is read first (``insert_new`` for a batch of users created in the same transaction),
called only through ``services/mfa_writes.py``, which always hands them the audit event."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from twofold.domain.mfa import Factor, MfaStatus, PolicyEntry
from twofold.services import audit
from twofold.storage.repositories import mfa as mfa_repo

SRC = Path(__file__).resolve().parents[2] / "src" / "twofold"
WRITES_SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE)\s+mfa_statuses\b", re.IGNORECASE)


def modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_only_the_mfa_repository_writes_the_table() -> None:
    writers = {p.relative_to(SRC).as_posix() for p in modules() if WRITES_SQL.search(p.read_text())}
    assert writers == {"storage/repositories/mfa.py"}


WRITE_FUNCTIONS = {"write", "write_direct", "insert_new"}


def _writing_constants(tree: ast.Module) -> set[str]:
    """Module-level names whose value writes the table, directly or through another such name."""
    sources = {
        target.id: ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    writing = {name for name, source in sources.items() if WRITES_SQL.search(source)}
    while True:
        more = {
            name
            for name, source in sources.items()
            if name not in writing and any(re.search(rf"\b{w}\b", source) for w in writing)
        }
        if not more:
            return writing
        writing |= more


def test_the_repository_write_functions_take_the_audit_event() -> None:
    tree = ast.parse((SRC / "storage/repositories/mfa.py").read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}
    constants = _writing_constants(tree)
    assert {"_CAS_UPDATE", "_PG_CAS_UPDATE", "_PG_DIRECT", "_DIRECT"} <= constants
    writing = {
        name
        for name, fn in functions.items()
        if WRITES_SQL.search(source := ast.unparse(fn))
        or any(re.search(rf"\b{c}\b", source) for c in constants)
        or re.search(r"\bwrite\(", source)
    }
    assert writing == WRITE_FUNCTIONS
    for name in WRITE_FUNCTIONS:
        audit = next(a for a in functions[name].args.args if a.arg == "audit")
        assert audit.annotation is not None and ast.unparse(audit.annotation) in ("AuditRow", "Sequence[AuditRow]")


def test_only_mfa_writes_calls_the_write() -> None:
    callers = set()
    for path in modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "twofold.storage.repositories.mfa":
                assert not WRITE_FUNCTIONS & {a.name for a in node.names}, path
            if (
                isinstance(node, ast.Attribute)
                and node.attr in WRITE_FUNCTIONS
                and ast.unparse(node.value) == "mfa_repo"
            ):
                callers.add(path.relative_to(SRC).as_posix())
    assert callers == {"services/mfa_writes.py"}


def test_a_stored_document_needs_no_redaction() -> None:
    """The direct write records the stored document as the event's ``before`` without redacting it
    (in SQL on PostgreSQL): every stored document is an encoded status, which names no secret."""
    status = MfaStatus(
        tuple(PolicyEntry(f, True, i) for i, f in enumerate(Factor)),
        totp_enabled=True,
        face_enabled=True,
        mfa_phone="13900139000",
        mfa_phone_country_code="+86",
        mfa_email="codes@example.com",
    )
    document = mfa_repo.encode(status)
    assert audit.to_json(audit.StoredJson(document)) == document
