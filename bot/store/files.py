"""The store's files are the staff's data: the database, its -wal, -shm and -lock files and its backups are
readable by the bot's user only (0600), in a folder only it can enter (0700 when the bot creates it),
whatever the umask. `gfi-bot` also sets its umask to 0077, so reports, PDFs and CSV files it writes are 0600.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
SIDE_FILES = ("-wal", "-shm", "-journal", "-lock")


def create_private(path: Path | str) -> None:
    """Create `path` empty with mode 0600 when it does not exist (SQLite then opens it as an empty database and
    creates -wal and -shm with the database file's mode)."""
    with contextlib.suppress(OSError):  # exists, or cannot be made: SQLite's own open then says why
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))


def tighten(path: Path | str) -> None:
    """Take group and other permissions off the database file and its side files, where they exist and
    belong to this user (an operator's older store, made before this, was often 0644)."""
    for name in ("", *SIDE_FILES):
        target = f"{path}{name}"
        with contextlib.suppress(OSError):
            info = os.stat(target)
            if info.st_uid == os.geteuid() and info.st_mode & 0o077:
                os.chmod(target, info.st_mode & 0o700)


def secure_store(path: Path | str) -> None:
    """Before opening a file store: create it 0600 if new, tighten it and its side files if old."""
    if str(path) == ":memory:":
        return
    create_private(path)
    tighten(path)
