"""A full disk under the store: recognised, told to the operator once, and turned into `StoreFull`.

SQLite answers SQLITE_FULL when a write needs a page the filesystem cannot give (a full disk, a full tmpfs, a
quota); PostgreSQL's SQLSTATE is 53100 (disk_full). SQLite rolls the transaction back itself when that happens,
so nothing of the unit of work is kept, and the connection is usable as soon as space returns: the bot needs
no restart. What the person sees is `StoreFull` (every channel renders it in Swedish, see `store_full`).

The operator's log gets one structured line when the store first refuses a write (`store.full`, a warning,
no traceback) and one when it writes steadily again (`store.writable`, with how many writes were refused
meanwhile), not one per refused write: a burst against a full disk would otherwise bury the reason in its own
noise.
"""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger("bot.store")


class StoreFull(Exception):
    """The store's disk (or the database server's) is full: the unit of work was rolled back, nothing of it was
    stored. Every channel tells the person so in Swedish (`store_full`); it passes once space returns. Raised by
    the store, so it lives here; `bot.errors` names it with the other errors the channels answer."""

    def __init__(self) -> None:
        super().__init__("store_full")

DISK_FULL_SQLSTATE = "53100"


def is_full(exc: BaseException) -> bool:
    """True when `exc` (or what it was raised from) is the store's disk being full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlite_errorcode", 0) if isinstance(current, sqlite3.Error) else 0
        if code & 0xFF == sqlite3.SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == DISK_FULL_SQLSTATE:
            return True
        current = current.__cause__ or current.__context__
    return False


class SpaceWatch:
    """Whether the store is refusing writes for lack of space; logs the change of state, not each refusal.

    A nearly full disk flaps: after a large write is refused, a small one may still fit (SQLite reuses the
    write-ahead log space the refused one had taken). So the store counts as writable again only after
    `SETTLE_WRITES` writes in a row went through, and until then a refusal is part of the same episode."""

    SETTLE_WRITES = 10

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.refused = 0  # writes refused in this episode; 0 while the store writes
        self._since_refused = 0  # writes that went through since the last refusal

    def full(self) -> None:
        """A write was refused for lack of space."""
        if self.refused == 0:
            log.warning("store disk full: writes are refused until space is freed",
                        extra={"event": "store.full", "engine": self.engine})
        self.refused += 1
        self._since_refused = 0

    def wrote(self) -> None:
        """A write went through: if the store was full and now writes steadily, say so."""
        if not self.refused:
            return
        self._since_refused += 1
        if self._since_refused >= self.SETTLE_WRITES:
            log.warning("store writes again", extra={"event": "store.writable", "engine": self.engine,
                                                     "refused": self.refused})
            self.refused = 0
