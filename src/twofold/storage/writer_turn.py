"""Fair hand-off of SQLite's write lock between worker processes (the ``<database>-writers`` file)."""

from __future__ import annotations

import fcntl
import os


class WriterTurn:
    """Fair hand-off of SQLite's write lock between worker processes.

    SQLite's lock is not fair: a process that commits batch after batch can take it again before a
    process that polls for it (from a busy event loop) tries again, which left some requests waiting
    over 80 ms.  So a process that finds the lock taken holds an exclusive POSIX lock on the side file
    ``<database>-writers`` while it waits, and a process about to start another batch first checks
    that nobody else holds it.  Both are non-blocking system calls (a few microseconds per batch).
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._claimed = False

    def claim(self) -> None:
        if not self._claimed:
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._claimed = True
            except OSError:
                pass  # another process already waits; it goes first, then us

    def release(self) -> None:
        if self._claimed:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
            self._claimed = False

    def someone_else_waits(self) -> bool:
        if self._claimed:
            return False
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        os.close(self._fd)
