"""SQL of the directory shared by the instances on one PostgreSQL database (issue #22 item 5).

`directory_versions` keeps one row per directory an instance published (its file, read on a change or SIGHUP,
or written by `gfi-bot directory import|sync`): the SHA-256 of the file's bytes, its format, when the file was
last changed (when known) and, for the newest only, its text. The newest row is the directory every instance
serves; a version's publication is announced (`bot.store.changes`, topic `directory`) in its transaction, so
every instance reads it at once. Older rows keep their digest only: a file that is one of them (a machine whose
copy was not updated) is known to be old. A version's publication time comes from the database's clock, one
clock for every machine.

`directory_hosts` keeps, per machine and directory file (`host`: `bot.directory.shared.host_of`, the hashed
/etc/machine-id or else the host name, and the file's path), the digest of the local file that machine last
published or served, and when (a machine not seen for `HOSTS_KEPT` is forgotten): at start a machine publishes
its file only when it changed since (`bot.directory.shared`), never by comparing its file's modification time with
another machine's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store import Database, Tx
from bot.store.changes import announce
from bot.store.dialects import of as dialect_of

TOPIC = "directory"
LOCK = 0x6766_6964_6972  # "gfidir": the advisory lock of a publication


@dataclass(frozen=True)
class Version:
    """A published directory: its number, digest and format; `text` when read with it."""

    version: int
    digest: str
    format: str  # "yaml" or "json": how the text is read
    text: str | None = None
    published_at: datetime | None = None
    file_modified: datetime | None = None  # when its file was last changed (None: not known)

    @property
    def changed(self) -> datetime | None:
        """When this directory was last changed: its file's modification time, or its publication."""
        return self.file_modified or self.published_at


async def latest(db: Database, *, with_text: bool = False) -> Version | None:
    """The newest published directory (None: none yet)."""
    columns = "version, digest, format, published_at, file_modified" + (", content" if with_text else "")

    async def work(tx: Tx) -> Version | None:
        row = await tx.fetchone(f"SELECT {columns} FROM directory_versions ORDER BY version DESC LIMIT 1")
        if row is None:
            return None
        return Version(int(row["version"]), str(row["digest"]), str(row["format"]),
                       str(row["content"]) if with_text and row["content"] is not None else None,
                       _time(row["published_at"]), _time(row["file_modified"]))

    return await db.run_read(work)


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


async def known(db: Database, digest: str) -> bool:
    """True when a directory with this digest was published before (now, or superseded)."""
    return await db.run_read(
        lambda tx: tx.scalar("SELECT 1 FROM directory_versions WHERE digest = ?", (digest,))) is not None


async def _now(tx: Tx) -> datetime:
    """The database's clock (UTC): the same for every machine that publishes."""
    value = await tx.scalar("SELECT CURRENT_TIMESTAMP")
    if isinstance(value, datetime):  # PostgreSQL: timestamptz
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite: 'YYYY-MM-DD HH:MM:SS', UTC


class Superseded(Exception):
    """`publish(expected=…)`: another directory was published since the one the publication started from."""

    def __init__(self, version: int, origin: str | None) -> None:
        super().__init__(f"version {version}")
        self.version, self.origin = version, origin


async def publish(db: Database, *, digest: str, format: str, text: str, origin: str,
                  file_modified: datetime | None = None, expected: int | None = None) -> int | None:
    """Make this directory the one every instance serves, and announce it; None when it already is. A digest
    published before becomes the newest again (a version put back on purpose). Published at the database's
    clock; `file_modified`: when its file was last changed (only an instance's start gives it). `expected`: the
    version the change was made from (0: none published), which must still be the newest, else `Superseded` and
    nothing is published (two publications at once cannot silently overwrite each other). One transaction."""

    async def work(tx: Tx) -> int | None:
        lock = dialect_of(tx.engine).serialise_appends()  # one publication at a time: the newest is decided in order
        if lock is not None:
            await tx.execute(lock, (LOCK,))
        newest = await tx.fetchone(
            "SELECT version, digest, origin FROM directory_versions ORDER BY version DESC LIMIT 1")
        if newest is not None and newest["digest"] == digest:
            return None
        if expected is not None and (int(newest["version"]) if newest is not None else 0) != expected:
            raise Superseded(int(newest["version"]) if newest is not None else 0,
                             str(newest["origin"]) if newest is not None else None)
        await tx.execute("DELETE FROM directory_versions WHERE digest = ?", (digest,))
        at = await _now(tx)
        version = int(await tx.scalar(
            "INSERT INTO directory_versions (digest, format, content, published_at, origin, file_modified) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING version",
            (digest, format, text, at.isoformat(), origin, file_modified.isoformat() if file_modified else None)))
        await tx.execute("UPDATE directory_versions SET content = NULL WHERE version < ? AND content IS NOT NULL",
                         (version,))
        await announce(tx, TOPIC)
        return version

    return await db.run(work)


async def touch(db: Database, digest: str) -> bool:
    """The newest directory, `digest`, published again on purpose (SIGHUP): it counts as changed now (the
    database's clock), not at its file's time. False when `digest` is no longer the newest."""

    async def work(tx: Tx) -> bool:
        lock = dialect_of(tx.engine).serialise_appends()
        if lock is not None:
            await tx.execute(lock, (LOCK,))
        newest = await tx.fetchone("SELECT version, digest FROM directory_versions ORDER BY version DESC LIMIT 1")
        if newest is None or newest["digest"] != digest:
            return False
        await tx.execute("UPDATE directory_versions SET published_at = ?, file_modified = NULL WHERE version = ?",
                         ((await _now(tx)).isoformat(), newest["version"]))
        return True

    return await db.run(work)


async def last_seen(db: Database, host: str) -> str | None:
    """The digest of the local file this machine (`host`) last published or served; None: never recorded."""
    value = await db.run_read(
        lambda tx: tx.scalar("SELECT digest FROM directory_hosts WHERE host = ?", (host,)))
    return str(value) if value is not None else None


HOSTS_KEPT = timedelta(days=180)  # a machine (and file) not seen for this long is forgotten: never recorded again


async def seen(db: Database, host: str, digest: str, earlier: Sequence[str] = ()) -> None:
    """This machine (`host`) published or served its local file, `digest`; the rows of its keys from before the upgrade
    (`earlier`: `bot.directory.shared.hosts_of`) are deleted in the same transaction, so that they are read once only:
    left, frozen at an old digest, they made every later machine with the same machine id (a container created again, a
    new host name) "recorded" for `HOSTS_KEPT`, and its file published over a newer one. The machines not seen for
    `HOSTS_KEPT` (by the database's clock) are forgotten meanwhile: replaced or renamed ones left rows for ever. One
    that comes back is a machine never recorded (`bot.directory.shared`: its file's modification time decides). A row
    another transaction holds is left for the next time (`skip_locked`): two machines starting together each hold their
    own row, and each deleting the other's, once both were old, deadlocked."""

    async def work(tx: Tx) -> None:
        now = await _now(tx)
        await tx.execute(
            "INSERT INTO directory_hosts (host, digest, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (host) DO UPDATE SET digest = excluded.digest, seen_at = excluded.seen_at",
            (host, digest, now.isoformat()))
        for old in earlier:
            if old != host:
                await tx.execute("DELETE FROM directory_hosts WHERE host = ?", (old,))
        await tx.execute(
            "DELETE FROM directory_hosts WHERE host IN (SELECT h.host FROM directory_hosts AS h WHERE h.seen_at < ?"
            + dialect_of(tx.engine).skip_locked("h") + ")", ((now - HOSTS_KEPT).isoformat(),))

    await db.run(work)


async def still_here(db: Database, host: str) -> None:
    """This machine (`host`) still runs with its file: when it was last seen is now (by the database's clock), so
    that a machine running longer than `HOSTS_KEPT` without a start, a change of its file or SIGHUP is not forgotten
    by another's `seen`. Its digest stays."""

    async def work(tx: Tx) -> None:
        await tx.execute("UPDATE directory_hosts SET seen_at = ? WHERE host = ?", ((await _now(tx)).isoformat(), host))

    await db.run(work)
