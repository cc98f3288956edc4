"""One directory for every instance on one PostgreSQL database (issue #22 item 5).

On SQLite one process reads its directory file, as before. On PostgreSQL several instances serve one region,
each on a machine with a file of its own; the directory they serve is the newest one published in the store
(`bot.store.directory_versions`), and a publication is announced (`pg_notify`), so every instance reads it at
once and a listener that was cut off reads it when it is back (`bot.store.changes`).

Who publishes. An instance whose own file changed (the 30-second check, SIGHUP), `gfi-bot directory import|sync`
(the Entra sync too) when it writes the directory the bot reads, and `gfi-bot run` starting with a file that
changed on its machine since that machine last published or served it (`directory_hosts`, keyed by the machine,
`machine`: its `GFI_INSTANCE_ID`, else its /etc/machine-id with its host name, hashed, else its host name, and the
file's path; a machine not seen for `directory_versions.HOSTS_KEPT` is forgotten). A file the store knows as an
older version, or one unchanged on its machine since (a copy left there), is not published: that instance serves
the store's newest instead, and says so in the log. A machine never recorded (the first start of a new one)
publishes only a file the store has never seen that was changed after the store's newest (its file's modification
time against the newest's publication, by the database's clock). SIGHUP publishes the file even then (the operator
put an older version back on purpose).

Every publication while running (the check, SIGHUP, the command) counts as changed when it was published, by
the database's clock, not at its file's modification time; a SIGHUP of the version already newest counts it as
changed again now. So a rollback stays rolled back when a machine with another copy starts again. The
console and the CLI's other commands never publish: they serve the store's newest when there is one.

At start the file is offered as it was read and validated (`Directory.read`), not read a second time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.directory.loading import parse_text
from bot.directory.lookup import Directory
from bot.directory.model import DirectoryError, DirectoryFile
from bot.store import Database
from bot.store import directory_versions as store
from bot.store.dialects import of as dialect_of

log = logging.getLogger("bot.directory.reload")


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def format_of(path: Path) -> str:
    return "json" if path.suffix.lower() == ".json" else "yaml"


MACHINE_ID = Path("/etc/machine-id")
STILL_HERE_EVERY = timedelta(days=1)  # how often a running machine refreshes its `directory_hosts` row


def _hashed(kind: str, raw: str) -> str:
    return f"{kind}-" + hashlib.sha256(f"gfi-bot directory_hosts {raw}".encode()).hexdigest()[:32]


def _machine_id() -> str:
    try:
        raw = MACHINE_ID.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raw = ""
    return "" if raw == "uninitialized" else raw  # systemd's mark of an image whose id is made at first boot


def machine(instance_id: str | None = None) -> str:
    """This machine, as `directory_hosts` keys it: the operator's `GFI_INSTANCE_ID` when set (hashed: its characters
    and length do not matter); else its /etc/machine-id when readable together with its host name, hashed with the
    bot's own prefix (the id itself is the machine's secret, and readable by nobody from the store), since the
    containers of one image share the image's machine id; else its host name. A host name alone is not the machine's
    own either: cloned VMs repeat a pattern, and a renamed host (a container started again) is a machine never
    recorded: give such instances `GFI_INSTANCE_ID`."""
    if instance_id is not None and instance_id.strip():
        return _hashed("instance", instance_id.strip())
    raw = _machine_id()
    if raw:
        return _hashed("machine", f"{raw} {socket.gethostname()}")
    return socket.gethostname()


def host_of(path: Path, instance_id: str | None = None) -> str:
    """This machine and its directory file, as `directory_hosts` keys them (several instances on one machine
    read one file; tests run several "machines" in one process, one file each)."""
    return f"{machine(instance_id)}:{path.resolve()}"


def hosts_of(path: Path, instance_id: str | None = None) -> list[str]:
    """`host_of`, then the key the same machine had before (its machine id alone, hashed: before machines were keyed
    by `GFI_INSTANCE_ID` or machine id and host name), read when the first has no row yet: a machine's record from
    before the upgrade keeps working until the machine's next `seen` writes its new key (and deletes the old row)."""
    keys = [host_of(path, instance_id)]
    raw = _machine_id()
    earlier = f"{_hashed('machine', raw) if raw else socket.gethostname()}:{path.resolve()}"
    return keys if earlier in keys else [*keys, earlier]


async def last_seen(db: Database, path: Path, instance_id: str | None = None) -> str | None:
    """The digest of the local file this machine last published or served (`store.last_seen` of `hosts_of`, the
    first recorded); None: never recorded."""
    for host in hosts_of(path, instance_id):
        found = await store.last_seen(db, host)
        if found is not None:
            return found
    return None


async def seen(db: Database, path: Path, digest: str, instance_id: str | None = None) -> None:
    """This machine published or served its file at `path`, `digest`: recorded under `host_of`; its row from before
    the upgrade (`hosts_of`'s other key) is deleted at once (`store.seen`): read once only, by this first start."""
    keys = hosts_of(path, instance_id)
    await store.seen(db, keys[0], digest, earlier=keys[1:])


def origin() -> str:
    """Who published (in the store, for the operator): the host and process, no person."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SharedDirectory:
    """The directory this instance serves, kept the same as the store's newest (PostgreSQL); on SQLite it only
    remembers the digest of what was loaded (`enabled` is False)."""

    def __init__(self, db: Database, directory: Directory, clock: Clock, instance_id: str | None = None) -> None:
        self.db = db
        self.instance_id = instance_id  # GFI_INSTANCE_ID: this instance's key in `directory_hosts` (`machine`)
        self.directory = directory
        self.clock = clock
        self.enabled = dialect_of(db.engine).notify() is not None  # several instances may share the store
        self.digest: str | None = None  # of the directory this instance serves
        self.on_change: list[Callable[[], None]] = []  # after the directory was replaced from the store
        # after the directory was replaced (from the store, or by this instance's file: `DirectoryWatcher`), given the
        # one it replaced: the cases' lost-access pass for the people whose roles changed (`bot.core`)
        self.on_replaced: list[Callable[[DirectoryFile], Awaitable[object]]] = []
        self._lock = asyncio.Lock()
        self._here_at: datetime | None = None  # when this machine last said it still runs (`still_here`)

    async def still_here(self, path: Path) -> None:
        """About once a day (the 30-second check of the file calls it): this machine still runs with its file
        (`store.still_here`), so that another machine's `seen` does not forget it while it runs. The store away:
        at a later check."""
        now = self.clock.now()
        if not self.enabled or (self._here_at is not None and now - self._here_at < STILL_HERE_EVERY):
            return
        self._here_at = now
        try:
            await store.still_here(self.db, host_of(path, self.instance_id))
        except Exception:
            self._here_at = None
            log.warning("directory host not refreshed", extra={"event": "directory.host_not_refreshed"})

    async def offer(self, raw: bytes, path: Path, *, forced: bool = False, modified: float | None = None,
                    starting: bool = False) -> bool:
        """This instance read a valid directory file (`raw`, at `path`; valid UTF-8, last changed at `modified`,
        seconds since the epoch): publish it unless the store knows it as an older version, or (`starting`) it is
        new to the store but was last changed before the store's newest, and the operator did not insist
        (`forced`). True when this instance should serve the file; False when it serves the store's newest instead
        (replaced here)."""
        digest = digest_of(raw)
        if not self.enabled:
            self.digest = digest
            return True
        changed = datetime.fromtimestamp(modified, UTC) if modified is not None else None
        async with self._lock:
            newest = await store.latest(self.db)
            if newest is not None and newest.digest == digest:
                if forced:  # put back (again) on purpose: it counts as changed now
                    await store.touch(self.db, digest)
                await self._seen(path, digest)
                self.digest = digest
                return True
            if newest is not None and not forced and await store.known(self.db, digest):
                log.warning("directory file older than the store's, the store's served", extra={
                    "event": "directory.file_older", "version": newest.version})
                await self._serve_newest(path, digest)
                return False
            if starting and newest is not None and not forced and await self._stale(path, digest, changed, newest):
                await self._serve_newest(path, digest)
                return False
            version = await store.publish(self.db, digest=digest, format=format_of(path), text=raw.decode("utf-8"),
                                          origin=origin(), file_modified=changed if starting else None)
            await self._seen(path, digest)
            self.digest = digest
            log.info("directory published", extra={"event": "directory.published", "version": version})
            return True

    async def _stale(self, path: Path, digest: str, changed: datetime | None, newest: store.Version) -> bool:
        """At start, a file the store has never seen: stale when it is unchanged on this machine since the machine
        last published or served it; on a machine never recorded, when it was last changed before the newest."""
        last = await last_seen(self.db, path, self.instance_id)
        if last is not None:
            if last != digest:
                return False
            log.warning("directory file unchanged on this machine since it was last served, the store's served "
                        "(SIGHUP publishes it)", extra={"event": "directory.file_stale", "version": newest.version,
                                                         "reason": "unchanged"})
            return True
        if changed is None or newest.changed is None or changed >= newest.changed:
            return False
        log.warning("directory file never published and changed before the store's newest: not published, "
                    "the store's served (SIGHUP publishes it)", extra={
                        "event": "directory.file_stale", "version": newest.version, "reason": "older",
                        "file_changed": changed.isoformat(), "newest_changed": newest.changed.isoformat()})
        return True

    async def _seen(self, path: Path, digest: str) -> None:
        await seen(self.db, path, digest, self.instance_id)
        self._here_at = self.clock.now()

    async def _serve_newest(self, path: Path, digest: str) -> None:
        await self._seen(path, digest)
        await self._load()

    async def start(self, *, publish: bool = True) -> None:
        """At start: the directory file as it was read and validated (`Directory.read`; the file is not read again).
        `publish` (`gfi-bot run`): offered to every instance (`offer`, with the file's modification time). Not
        `publish` (the console, the CLI's other commands): never published; the store's newest is served when there
        is one. A directory made without a file (tests) is left as it is."""
        read, self.directory.read = self.directory.read, None  # the bytes are not kept for the process's life
        source = self.directory.source
        if not self.enabled or source is None:
            if read is not None:
                self.digest = digest_of(read.raw)
            return
        if read is None:  # parsed from a text, not read from its file here: the store's newest, if any
            await self.reload()
            return
        if publish:
            await self.offer(read.raw, source, modified=read.modified, starting=True)
            return
        async with self._lock:
            self.digest = digest_of(read.raw)
            newest = await store.latest(self.db)
            if newest is not None and newest.digest != self.digest:
                await self._load()

    async def reload(self) -> None:
        """Another instance (or `gfi-bot directory`) published a directory, or the listener is back after a
        loss: serve the store's newest when it is not what this instance serves."""
        if not self.enabled:
            return
        async with self._lock:
            newest = await store.latest(self.db)
            if newest is not None and newest.digest != self.digest:
                await self._load()

    async def _load(self) -> None:
        """Serve the store's newest directory (read and validated off the event loop)."""
        newest = await store.latest(self.db, with_text=True)
        if newest is None or newest.text is None:
            return
        source = self.directory.source or Path(f"directory.{newest.format}")
        read_as = source if format_of(source) == newest.format else source.with_suffix(f".{newest.format}")
        try:
            new = await asyncio.to_thread(parse_text, newest.text, read_as)
        except DirectoryError as exc:  # written by a newer bot, or by hand in the database: keep what is served
            log.warning("stored directory invalid, old directory kept", extra={
                "event": "directory.reload_refused", "reason": "invalid", "version": newest.version,
                "problems": len(exc.problems)})
            return
        new.source = self.directory.source  # the local file stays the one watched
        old = self.directory.data
        replaced = self.directory.replace(new)
        self.digest = newest.digest
        log.info("directory reloaded", extra={"event": "directory.reloaded", "from": "store",
                                              "version": newest.version, "units": len(new.units),
                                              "people": len(new.people)})
        del new
        await asyncio.to_thread(replaced.clear)  # the old directory is freed on a thread, not on the loop
        for callback in self.on_change:
            callback()
        await self.replaced(old)

    async def replaced(self, old: DirectoryFile) -> None:
        """The directory served was replaced (`old` is the one before): run `on_replaced`. A hook that fails is
        logged and does not undo the reload."""
        for hook in self.on_replaced:
            try:
                await hook(old)
            except Exception as exc:
                log.error("directory reload hook failed", extra={"event": "directory.reload_hook_failed",
                                                                 "exc_type": type(exc).__name__})
