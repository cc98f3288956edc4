"""One timekeeper (issue #22): exactly one running instance sweeps, fires distribution slots, purges and
delivers the outbox; the others serve Slack, Teams and the links and write to the store.

On SQLite that is always this process (one process per store, held by the process lock). On PostgreSQL the
leader is the instance that holds a session advisory lock on a connection of its own: a connection that ends
(the process is killed, the machine or the network is lost) releases it, and another instance, which tries
every `CHECK_SECONDS`, takes over. TCP keepalives and `tcp_user_timeout` bound how long a lost network takes
to be noticed by the server (`LOST_AFTER`), so failover is within about 15 s. A leader that cannot reach its
connection stops leading at once (before the server lets the lock go), and the sweeps are idempotent, so a
moment with two leaders changes nothing. Session advisory locks need a direct (or session-pooled)
connection: a transaction-pooling PgBouncer would hand the lock's session to someone else.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from bot.store.tx import Worker

log = logging.getLogger(__name__)

LEADER_LOCK = 0x6766_6962_6F75  # the timekeeper's advisory lock
CHECK_SECONDS = 5
LOST_AFTER = 8  # seconds: keepalives idle 3 s, every 1 s, 3 lost; tcp_user_timeout 8 s


class Leadership:
    """Always the leader: SQLite, one process per store."""

    @property
    def is_leader(self) -> bool:
        return True

    async def check(self) -> bool:
        """Try to become (or stay) the leader; whether this instance leads now."""
        return True

    async def close(self) -> None:
        return None


class PostgresLeadership(Leadership):
    """The instance that holds the leader lock on its own connection leads."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._worker = Worker("gfi-pg-leader")
        self._conn: Any = None
        self._leading = False
        self._closed = False

    @property
    def is_leader(self) -> bool:
        return self._leading

    def _check(self) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self._url, autocommit=True, connect_timeout=5, application_name="gfi-bot-leader",
                    keepalives=1, keepalives_idle=3, keepalives_interval=1, keepalives_count=3,
                    tcp_user_timeout=LOST_AFTER * 1000,
                )
            if self._leading:
                self._conn.execute("SELECT 1")  # still connected, so still holding the lock
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
            return bool(row and row[0])
        except psycopg.Error:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
            self._conn = None
            return False

    async def check(self) -> bool:
        leading = await self._worker.call(self._check)
        if leading != self._leading:
            log.info("leadership changed", extra={"event": "store.leader", "leading": leading})
        self._leading = leading
        return leading

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()  # ends the session: the lock goes to another instance at once
            self._conn = None

        self._leading = False
        await self._worker.call(close)
        self._worker.close()
