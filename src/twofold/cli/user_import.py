"""``twofold users import``: CSV or JSON Lines into the directory, row by row atomic, resumable.

Each row becomes one ``create-users-batch`` item carrying the user, an optional TOTP secret and an
optional initial MFA status; the server writes all three in one transaction, so a row is imported
whole or not at all.  Rows go in batches; a batch the server refuses is split (bisection) until the
refused rows are isolated, so one bad row costs a few extra requests, never the rest of the batch.
After every batch the position is saved next to the file (``<file>.import-state.json``); ``--resume``
continues from there.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

if TYPE_CHECKING:  # the SDK is imported only where a client command runs (cli/connection.py)
    from twofold_client import ManagementClient

CSV_FIELDS_HELP = (
    "username, email, phone, phoneCountryCode, externalId, name, nickname, password, status; "
    "otpSecret, otpRecoveryCode; mfaPolicies (e.g. 'OTP:1:0;SMS:0:1' = factor:on/off:sort, or 'OTP,SMS'), "
    "totpMfaEnabled, faceMfaEnabled, mfaPhone, mfaPhoneCountryCode, mfaEmail"
)
_MFA_KEYS = ("mfaPolicies", "totpMfaEnabled", "faceMfaEnabled", "mfaPhone", "mfaPhoneCountryCode", "mfaEmail")
_OTP_KEYS = ("otpSecret", "otpRecoveryCode")
_MFA_KEY_SET = frozenset(_MFA_KEYS)
_SPECIAL_KEYS = frozenset(_MFA_KEYS + _OTP_KEYS)
_ROW_IN_MESSAGE = re.compile(r"list\[(\d+)\]")
USER_ALREADY_EXISTS = 40901


class RowError(ValueError):
    """A row that cannot be turned into a user (reported with its line number)."""


@dataclass(frozen=True)
class Row:
    line: int
    payload: dict[str, Any]


@dataclass
class Failure:
    line: int
    message: str
    api_code: int | None = None


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    skipped_existing: int = 0
    failures: list[Failure] = field(default_factory=list)


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off"):
        return False
    raise RowError(f"{name}: expected true or false, got {value!r}")


def _policies(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    return [dict(entry) for entry in _parsed_policies(str(value))]


@lru_cache(maxsize=256)  # a file has a few distinct policy lists, repeated on every row
def _parsed_policies(text: str) -> tuple[dict[str, Any], ...]:
    entries = []
    for index, part in enumerate(p.strip() for p in text.replace(",", ";").split(";")):
        if not part:
            continue
        bits = part.split(":")
        if len(bits) == 1:
            entries.append({"mfaPolicy": bits[0].upper(), "status": 1, "sort": index})
        elif len(bits) == 3 and bits[1].isdigit() and bits[2].isdigit():
            entries.append({"mfaPolicy": bits[0].upper(), "status": int(bits[1]), "sort": int(bits[2])})
        else:
            raise RowError(f"mfaPolicies: cannot read {part!r} (use FACTOR or FACTOR:status:sort)")
    return tuple(entries)


def to_payload(record: dict[str, Any]) -> dict[str, Any]:
    """A flat CSV/JSON record (see ``CSV_FIELDS_HELP``) as a ``CreateUserInfoDto`` with Twofold extensions."""
    return _payload({k.strip(): v for k, v in record.items() if k and v is not None and v != ""})


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """``to_payload`` of a record whose keys are stripped and whose empty values are dropped."""
    payload = {k: v for k, v in values.items() if k not in _SPECIAL_KEYS}
    if "otpSecret" in values:
        payload["otp"] = {"secret": values["otpSecret"]}
        if "otpRecoveryCode" in values:
            payload["otp"]["recoveryCode"] = values["otpRecoveryCode"]
    if not _MFA_KEY_SET.isdisjoint(values):
        trigger: dict[str, Any] = dict(payload.get("mfaTriggerData") or {})
        trigger["applicationMfa"] = _policies(values.get("mfaPolicies", trigger.get("applicationMfa", [])))
        for key in ("totpMfaEnabled", "faceMfaEnabled"):
            if key in values:
                trigger[key] = _flag(values[key], key)
        for key in ("mfaPhone", "mfaPhoneCountryCode", "mfaEmail"):
            if key in values:
                trigger[key] = str(values[key])
        payload["mfaTriggerData"] = trigger
    return payload


def _csv_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of each CSV row, as ``csv.DictReader`` reads them, with the header's keys stripped
    once and empty cells left out (what ``to_payload`` would drop)."""
    reader = csv.reader(handle)
    header = next(reader, None) or []
    keys = [k.strip() for k in header]
    for row in reader:
        if row:  # DictReader skips blank lines too; cells beyond the header are dropped, as there
            yield reader.line_num, {k: v for k, v in zip(keys, row, strict=False) if k and v}


def read_rows(path: Path, fmt: str | None = None) -> tuple[list[Row], list[Failure]]:
    """All rows of the file, with 1-based line numbers (a CSV header is line 1)."""
    kind = (fmt or path.suffix.lstrip(".")).lower()
    rows: list[Row] = []
    failures: list[Failure] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if kind == "csv":
            for line, values in _csv_records(handle):
                try:
                    rows.append(Row(line, _payload(values)))
                except RowError as exc:
                    failures.append(Failure(line, str(exc)))
            return rows, failures
        if kind not in ("jsonl", "ndjson", "json"):
            raise RowError(f"unknown format {kind!r}: use .csv or .jsonl, or --format")
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                rows.append(Row(line, to_payload(_json_record(text))))
            except RowError as exc:
                failures.append(Failure(line, str(exc)))
    return rows, failures


def _json_record(text: str) -> dict[str, Any]:
    try:
        record = orjson.loads(text)
    except ValueError as exc:
        raise RowError(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RowError("each line must be a JSON object")
    return record


class ImportState:
    """The saved position of an import, next to the source file."""

    def __init__(self, source: Path) -> None:
        self.path = source.with_name(source.name + ".import-state.json")
        self.source = source

    def load(self) -> int:
        """The first line not yet handled (0 when starting afresh)."""
        if not self.path.exists():
            return 0
        data = orjson.loads(self.path.read_text(encoding="utf-8"))
        return int(data.get("nextLine", 0))

    def save(self, next_line: int, report: ImportReport) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            orjson.dumps(
                {
                    "source": str(self.source),
                    "nextLine": next_line,
                    "created": report.created,
                    "failed": len(report.failures),
                }
            ).decode(),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _submit(
    client: ManagementClient, rows: list[Row], resumed: bool, report: ImportReport, whole: bool = True
) -> None:
    """Create ``rows``; isolate refused rows.

    A refusal that names its row (``list[i]``) costs that row only: the rest is sent again whole
    (``whole``), which is all it takes when one row is bad. If the rest is refused again, it is split
    in halves: a batch of n rows, however many of them bad, is sent again as at most about
    2n x log2(n) rows in all, where sending the rest whole after every refusal cost up to n^2 / 2.
    Any other refusal is bisected until the refused rows are alone."""
    from twofold_client import ApiError

    if not rows:
        return
    try:
        client.create_users_batch([r.payload for r in rows])
        report.created += len(rows)
        return
    except ApiError as exc:
        if exc.status_code >= 500 or exc.status_code in (401, 403):
            raise
        message = _ROW_IN_MESSAGE.sub("row", exc.message, count=1)
        if len(rows) == 1:
            if resumed and exc.api_code == USER_ALREADY_EXISTS:
                report.skipped_existing += 1
            else:
                report.failures.append(Failure(rows[0].line, message, exc.api_code))
            return
        named = _ROW_IN_MESSAGE.search(exc.message)
        if named and exc.status_code == 400 and int(named.group(1)) < len(rows):
            index = int(named.group(1))
            report.failures.append(Failure(rows[index].line, message, exc.api_code))
            rows = rows[:index] + rows[index + 1 :]
            if whole:
                _submit(client, rows, resumed, report, whole=False)
                return
    middle = len(rows) // 2
    _submit(client, rows[:middle], resumed, report)
    _submit(client, rows[middle:], resumed, report)


# Batches sent at once, each on a keep-alive connection of its own. The kernel hands each connection
# to one server worker: with two in flight both often landed on the same worker (two workers at 40 %
# and 20 % of a core, 2,000 users/s); four keep two workers busy (docs/performance.md).
IN_FLIGHT = 4


def import_users(
    client: ManagementClient,
    rows: Iterable[Row],
    state: ImportState,
    batch_size: int,
    resume: bool,
    report: ImportReport,
    advance: Callable[[int], None],
) -> ImportReport:
    """Send the rows in batches, ``IN_FLIGHT`` at a time; the saved position only ever moves past
    batches that are finished, so ``--resume`` never skips a row."""
    start = state.load() if resume else 0
    pending = [r for r in rows if r.line >= start]
    advance(report.total - len(pending))
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]

    def send(batch: list[Row]) -> ImportReport:
        part = ImportReport()
        _submit(client, batch, resume, part)
        return part

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        futures = [pool.submit(send, b) for b in batches[:IN_FLIGHT]]
        for index, batch in enumerate(batches):
            part = futures[index].result()
            if index + IN_FLIGHT < len(batches):
                futures.append(pool.submit(send, batches[index + IN_FLIGHT]))
            report.created += part.created
            report.skipped_existing += part.skipped_existing
            report.failures.extend(part.failures)
            state.save(batch[-1].line + 1, report)
            advance(len(batch))
    report.failures.sort(key=lambda f: f.line)
    return report
