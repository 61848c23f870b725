"""The repository stands on its own: a fresh clone has everything its code and docs point at.

Nothing tracked reads or cites a path outside the repository, no binary package is committed, and every
anchor of docs/wire.md that a file cites exists there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIRE = ROOT / "docs" / "wire.md"
# Spelled in pieces so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join([r"\.\./" + "shared", "shared/" + "spec", "wire " + "spec", r"\btraps? " + r"\d"])
)
CITATION = re.compile(r"docs/wire\.md#([A-Za-z0-9-]+)((?:,\s*#[A-Za-z0-9-]+)*)")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("git not installed, or not a git checkout: cannot list the tracked files")
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in done.stdout.decode().split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return None


def test_nothing_tracked_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_no_binary_package_is_committed() -> None:
    packages = [
        p.name for p in tracked_files() if p.suffix in {".whl", ".egg"} or p.name.endswith(".tar.gz")
    ]
    assert packages == []


def test_every_cited_wire_anchor_exists() -> None:
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', WIRE.read_text(encoding="utf-8")))
    missing = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for match in CITATION.finditer(text):
            cited = [match.group(1), *re.findall(r"#([A-Za-z0-9-]+)", match.group(2))]
            missing += [f"{path.relative_to(ROOT)}: #{name}" for name in cited if name not in anchors]
    assert missing == []


def test_the_compatibility_rules_are_numbered_without_gaps() -> None:
    numbers = [int(n) for n in re.findall(r'<a id="rule-(\d+)"></a>', WIRE.read_text(encoding="utf-8"))]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 34
