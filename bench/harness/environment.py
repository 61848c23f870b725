"""What the results were measured on: the machine, the load, the versions, the settings."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .measure import Timing


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": mem_kib / 1024 / 1024,
        "kernel": platform.release(),
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def commit() -> str:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        ["git", "-C", str(root), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def describe(args: argparse.Namespace, timing: Timing) -> dict[str, Any]:
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("uvicorn", "uvloop", "httptools", "fastapi", "pydantic", "asyncpg")
    )
    return {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": load_average(),
        "commit": commit(),
        "python": platform.python_version(),
        "versions": f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {versions}",
        "timing": asdict(timing),
        "settings": {
            k: v for k, v in vars(args).items() if k not in ("output", "workdir") and not k.startswith("_")
        },
    }
