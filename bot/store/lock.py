"""One process per SQLite store: an exclusive `flock` on a sidecar file next to the database.

Two bots on one database file would both sweep the outbox and send messages twice. `StoreLock.acquire`
takes an OS-level lock on `<database>-lock` and keeps it until `release()` or the end of the process;
the kernel drops it when the process dies, even on SIGKILL, so a crash never leaves a stale lock.
Readers such as `gfi-bot due` do not take the lock (WAL lets them read next to the running bot).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.numerals import is_number
from bot.startup import StartupError

SUFFIX = "-lock"


def lock_path(db_path: Path | str) -> Path:
    """The lock file of a database: `gfi-bot.sqlite3` → `gfi-bot.sqlite3-lock`."""
    path = Path(db_path)
    return path.with_name(path.name + SUFFIX)


def ensure_directory(db_path: Path | str) -> Path:
    """Create the database's folder if needed; raises StartupError when it cannot exist."""
    folder = Path(db_path).parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError("store_dir_missing", dir=folder) from None  # a file where a folder should be
    except PermissionError:
        raise StartupError("store_dir_readonly", dir=_nearest_existing(folder)) from None
    except OSError:
        raise StartupError("store_dir_missing", dir=folder) from None
    if not folder.is_dir():
        raise StartupError("store_dir_missing", dir=folder)
    return folder


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


class StoreLock:
    """An exclusive lock on one database file, held by this process."""

    def __init__(self, db_path: Path | str, fd: int) -> None:
        self.db_path = Path(db_path)
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: Path | str) -> StoreLock:
        """Lock the store or raise StartupError (`store_in_use` names the holder's pid when known)."""
        folder = ensure_directory(db_path)
        path = lock_path(db_path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:
            raise StartupError("store_dir_readonly", dir=folder) from None
        except OSError:
            raise StartupError("store_dir_missing", dir=folder) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StartupError("store_in_use", path=db_path, pid=holder) from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(db_path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock (the file stays: removing it would race with a process that is opening it)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if is_number(text) else None
