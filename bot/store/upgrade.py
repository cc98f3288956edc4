"""Upgrading a store: a store of a newer schema than this code is refused, naming both versions (an older
gfi-bot started on an upgraded store would misread it), and before a file store is migrated a backup of it
is written beside it (`<name>.v<old>-<UTC time>.bak`, 0600)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from bot.startup import StartupError
from bot.store.backup import backup, before_migrating_name

log = logging.getLogger(__name__)


def check_not_newer(path: Path | str, done: Iterable[int], known: Iterable[int]) -> None:
    """StartupError when the store has migrations this code does not know (it was made by a newer gfi-bot)."""
    done, known = set(done), set(known)
    if done - known:
        raise StartupError("store_newer", path=str(path), found=max(done), known=max(known, default=0))


def backup_before_migrating(path: Path | str, version: int) -> Path:
    """Copy the store (at schema `version`) beside itself before its migrations run; returns the copy's path."""
    out = before_migrating_name(path, version)
    backup(path, out)
    log.info("store backed up before migrating", extra={"event": "store.backup_before_migrating",
                                                        "version": version})
    return out
