"""How `twofold users import` reads its file: a CSV row means what `csv.DictReader` makes of it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from twofold.cli.user_import import RowError, read_rows, to_payload

ODD_CSV = (
    "username, email ,mfaPolicies,totpMfaEnabled,,otpSecret\n"
    "al,al@example.com,OTP:1:0;SMS,yes,ignored,JBSWY3DPEHPK3PXP\n"
    "\n"
    "bo,,OTP:x,true,,\n"
    '"c\nd",cd@example.com,,,,\n'
    "short\n"
    "long,l@example.com,EMAIL,no,,,extra,cells\n"
)


def _reference(path: Path) -> tuple[list[tuple[int, dict[str, object]]], list[tuple[int, str]]]:
    rows, failures = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for record in reader:
            try:
                rows.append((reader.line_num, to_payload(record)))
            except RowError as exc:
                failures.append((reader.line_num, str(exc)))
    return rows, failures


def test_csv_rows_read_as_dictreader_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(ODD_CSV, encoding="utf-8")
    rows, failures = read_rows(path)
    assert ([(r.line, r.payload) for r in rows], [(f.line, f.message) for f in failures]) == _reference(path)
    assert [r.line for r in rows] == [2, 6, 7, 8] and [f.line for f in failures] == [4]
    first = rows[0].payload
    assert first["email"] == "al@example.com" and first["otp"] == {"secret": "JBSWY3DPEHPK3PXP"}
    assert first["mfaTriggerData"]["applicationMfa"][1] == {"mfaPolicy": "SMS", "status": 1, "sort": 1}


def test_rows_with_the_same_policies_do_not_share_them(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("username,mfaPolicies\na,OTP:1:0\nb,OTP:1:0\n", encoding="utf-8")
    first, second = (r.payload["mfaTriggerData"]["applicationMfa"] for r in read_rows(path)[0])
    first[0]["status"] = 0
    assert second == [{"mfaPolicy": "OTP", "status": 1, "sort": 0}]


@pytest.mark.parametrize("bad", ["OTP:1", "OTP:on:0", "OTP:1:0:2"])
def test_an_unreadable_policy_is_that_rows_error(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "users.csv"
    path.write_text(f"username,mfaPolicies\nok,OTP\nbad,{bad}\n", encoding="utf-8")
    rows, failures = read_rows(path)
    assert [r.line for r in rows] == [2]
    assert [(f.line, f.message) for f in failures] == [
        (3, f"mfaPolicies: cannot read {bad!r} (use FACTOR or FACTOR:status:sort)")
    ]
