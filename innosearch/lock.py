"""A run lock: a second overlapping `recrawl` refuses at once instead of fighting the first.

The kernel holds the lock (flock), so a run killed with SIGKILL releases it by dying: a stale
lock can never block the next run. What the dead run leaves behind is its note (pid, host, start
time) in the lock file; a clean exit empties it, so a note found on taking the lock means the
last holder crashed or was killed, and the new run says so before taking over (`stale`).

flock is reliable on local filesystems; keep the data directory off NFS.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType


class LockedError(RuntimeError):
    """Another run holds the lock."""


class RunLock:
    """`with RunLock(path):` holds the lock for the block or raises LockedError at once."""

    def __init__(self, path: str | Path, what: str = "run") -> None:
        self.path = Path(path)
        self.what = what  # named in the refusal: "another run is in progress"
        self._fd: int | None = None
        # The note of a holder that died without releasing: "pid 123 on host since 10:00:00".
        self.stale: str | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_note(fd) or "another process"
            os.close(fd)
            raise LockedError(
                f"another {self.what} is in progress ({holder}); lock: {self.path}"
            ) from None
        self.stale = _read_note(fd) or None
        os.ftruncate(fd, 0)
        note = (
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
        )
        os.pwrite(fd, note.encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # a clean exit leaves no note: the next run is not told
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # of a crash that did not happen
            os.close(self._fd)
            self._fd = None


def _read_note(fd: int) -> str:
    return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
