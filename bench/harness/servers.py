"""Start and stop the servers under test, and read their workers' peak memory.

Every server runs on the same stack: uvicorn (uvloop + httptools), ``--workers N``, no access log.
Twofold is started exactly as an operator would start it, ``twofold serve --workers N``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APPS = Path(__file__).resolve().parent.parent / "apps"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def twofold_command(port: int, workers: int) -> list[str]:
    binary = Path(sys.executable).with_name("twofold")
    head = [str(binary)] if binary.exists() else [sys.executable, "-m", "twofold.cli.main"]
    return [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


def baseline_command(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(APPS),
        f"{app}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]


class Server:
    """One server process group; ``worker_pids`` are the processes that answer requests."""

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        workers: int,
        env: dict[str, str],
        log: Path,
        forks: bool = False,
    ):
        """``forks``: the workers are always children (gunicorn); otherwise uvicorn's layout."""
        self.name, self.command, self.port, self.workers = name, command, port, workers
        self._forks = forks
        self._env = env
        self._log_path = log
        self._proc: subprocess.Popen[bytes] | None = None
        self._status_before_stop: int | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 90.0) -> None:
        log = self._log_path.open("ab")
        self._proc = subprocess.Popen(
            self.command, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._proc.returncode}; see {self._log_path}")
            if len(self.worker_pids()) == self.workers and self._answers():
                time.sleep(0.3 if self.workers > 1 else 0)  # let the other workers finish their startup
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not come up in {timeout:.0f}s; see {self._log_path}")

    def exit_status(self) -> int | None:
        """None while the server runs (or was stopped by us); else its exit code (negative: a signal)."""
        return self._status_before_stop if self._proc is None else self._proc.poll()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as resp:
                return resp.status in (200, 404)  # the baselines have no /healthz: any answer will do
        except urllib.error.HTTPError as exc:
            return exc.code in (404, 405)
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """uvicorn serves in-process with one worker, and from spawned children with more."""
        assert self._proc is not None
        if self.workers == 1 and not self._forks:
            return [self._proc.pid]
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self._proc.pid and (self._forks or b"multiprocessing.spawn" in cmdline):
                children.append(int(entry.name))
        return sorted(children)

    def all_pids(self) -> list[int]:
        """The supervisor (if any) and the workers: every process whose CPU is the server's."""
        if self._proc is None:
            return []
        return sorted({self._proc.pid, *self.worker_pids()})

    def reset_peak_rss(self) -> None:
        """Reset VmHWM (``echo 5 > /proc/PID/clear_refs``) so the next reading is this scenario's peak."""
        for pid in self.worker_pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass  # not permitted: the reading is then the peak since the worker started

    def peak_rss_mb(self) -> list[float]:
        """VmHWM of each worker, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._status_before_stop = proc.poll()
        if self._status_before_stop is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # the group we created: the server and its workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
