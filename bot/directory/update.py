"""`gfi-bot directory import|sync`: merge a source into the directory, show what changes, refuse or hand over
what leaving people hold, validate the result, and write it (the same YAML file the bot reads).

On PostgreSQL the update starts from the directory being served (the store's newest, `served`), not from a stale
local file: changes and hand-overs are computed against what every instance uses, and the result is written to
the local file and published."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot import texts
from bot.clock import Clock
from bot.directory.changes import Changes, diff
from bot.directory.handover import Holding, LostReaders, find_holdings, hand_over, hand_over_roles
from bot.directory.loading import parse_directory, parse_text, read_text
from bot.directory.lookup import Directory
from bot.directory.merge import Incoming, merge
from bot.directory.model import Channel, DirectoryError, DirectoryFile
from bot.directory.shared import digest_of, format_of, last_seen, origin, seen
from bot.directory.writing import file_text, to_text, write_text
from bot.startup import StartupError, describe
from bot.store import Database, open_database
from bot.store.directory_versions import Superseded, known, latest, publish

EXIT_REFUSED = 3


def say(name: str, **params: Any) -> str:
    return texts.text("directory_update", name, **params)


@dataclass(frozen=True)
class Request:
    """What the operator asked: where the directory is (and is written), the database, and the flags."""

    directory_path: Path
    out: Path
    db_path: Path | None  # None or a missing file: no stored holdings to check
    how: str  # "import --csv FILE" / "sync --entra", for the written file's header
    dry_run: bool = False
    force: bool = False
    default_channel: Channel = Channel.M365
    database_url: str | None = None  # GFI_DATABASE_URL: the PostgreSQL store instead of the file at db_path
    instance_id: str | None = None  # GFI_INSTANCE_ID: this machine in `directory_hosts` (`bot.directory.shared`)


def _print_changes(changes: Changes, out: TextIO) -> None:
    print(say("summary", added=len(changes.added), moved=len(changes.moved), removed=len(changes.removed),
              updated=len(changes.updated)), file=out)
    for p in changes.added:
        print("  " + say("added", p=p), file=out)
    for m in changes.moved:
        print("  " + say("moved", p=m.person, old_unit=m.old_unit), file=out)
    for p in changes.removed:
        print("  " + say("removed", p=p), file=out)


def _validate(new: DirectoryFile, path: Path) -> DirectoryError | None:
    """The written file would be read back exactly so: validate that text, not the model."""
    try:
        parse_directory(read_text(to_text(new, path), path), path)
    except DirectoryError as exc:
        return exc
    return None


def _stored(path: Path | None) -> Path | None:
    return path if path is not None and str(path) != ":memory:" and path.exists() else None


async def _open_db(request: Request) -> Database | None:
    """The store whose holdings are checked and handed over: PostgreSQL when GFI_DATABASE_URL names it (the
    running instances share it), else the SQLite file, when there is one."""
    if request.database_url:
        db = open_database(request.database_url, request.db_path or ":memory:")
    elif (path := _stored(request.db_path)) is not None:
        db = Database(path)
    else:
        return None
    await db.open()
    return db


async def _older_copy(db: Database, path: Path, digest: str, changed: datetime | None,
                      instance_id: str | None = None) -> bool:
    """A local file the store never saw is an older copy, not an edit made here, when this machine already
    served it instead of the store's newest (`last_seen` is its digest: `SharedDirectory` turned it away at
    start), or, on a machine never recorded, when it was last changed before the store's newest (`changed`)."""
    last = await last_seen(db, path, instance_id)
    if last is not None:
        return last == digest
    modified = datetime.fromtimestamp((await asyncio.to_thread(path.stat)).st_mtime, UTC)
    return changed is not None and modified < changed


async def served(request: Request, local: Directory, out: TextIO, err: TextIO) -> Directory | int:
    """The directory the update starts from. SQLite: the local file (`local`). PostgreSQL: the directory every
    instance serves (the store's newest). A local file that is an older version (published, or an old copy this
    machine was already turned away from: `_older_copy`; a machine whose copy was not updated, a rollback made
    elsewhere) is left aside and the operator told; one edited on this machine and never published is refused
    (EXIT_REFUSED; a dry run shows the change against what is served): merging into either would publish over
    what runs, and people moving from the old file's unit would hand over cases they still hold."""
    if not request.database_url:
        return local
    try:
        db = await _open_db(request)
    except StartupError as exc:
        print(describe(exc), file=err)
        return 1
    if db is None:
        return local
    try:
        newest = await latest(db, with_text=True)
        digest = digest_of(request.directory_path.read_bytes())
        if newest is None or newest.text is None or newest.digest == digest:
            local.version = newest.version if newest is not None else 0  # its publication expects it still newest
            return local
        said = "local_older"
        if not await known(db, digest):
            said = "local_stale"
            if not await _older_copy(db, request.directory_path, digest, newest.changed, request.instance_id):
                if not request.dry_run:
                    print(say("local_unpublished", path=request.directory_path, version=newest.version), file=err)
                    return EXIT_REFUSED
                said = "local_unpublished_dry_run"
    finally:
        await db.close()
    path = request.directory_path
    read_as = path if format_of(path) == newest.format else path.with_suffix(f".{newest.format}")
    try:
        directory = parse_text(newest.text, read_as)
    except DirectoryError as exc:  # written by a newer bot, or by hand in the database
        print(exc.report(), file=err)
        return 1
    directory.source = path
    directory.version = newest.version
    print(say(said, path=path, version=newest.version), file=out)
    return directory


async def apply(request: Request, current: Directory, incoming: list[Incoming], scope: set[str], clock: Clock,
                out: TextIO, err: TextIO, *, lost_readers: LostReaders) -> int:
    """Run the update; returns the exit code (0 done or dry run, 1 invalid result, 3 refused). `lost_readers`: the
    cases' rule the hand-over stops what the people who leave no longer read by (`bot.cases.leavers`)."""
    merged = merge(current.data, incoming, scope, request.default_channel)
    changes = diff(current.data, merged)
    if not changes:
        print(say("no_changes", path=request.directory_path), file=out)
        return 0
    _print_changes(changes, out)
    try:
        db = await _open_db(request)
    except StartupError as exc:  # PostgreSQL unreachable, a refused login, a newer schema: one Swedish line
        print(describe(exc), file=err)
        return 1
    try:
        if db is None and changes.leaving:
            print(say("no_database"), file=out)
        holdings = await find_holdings(db, merged, changes)
        code = _judge(request, holdings, out, err)
        if code is not None:
            return code
        if not request.dry_run and (lost := await _moved_on(request, db, current)) is not None:
            print(say("superseded", version=lost.version, origin=lost.origin, path=request.out), file=err)
            return EXIT_REFUSED
        new = hand_over_roles(merged, holdings) if request.force else merged
        problem = _validate(new, request.out)
        if problem is not None:
            print(say("result_invalid", path=request.out), file=err)
            print(problem.report(), file=err)
            return 1
        if request.dry_run:
            print(say("dry_run"), file=out)
            return 0
        handed = 0
        if request.force and db is not None and changes.leaving:
            handed = await hand_over(db, merged, changes.leaving, clock.now(), new,  # what they hold by then
                                     lost_readers=lost_readers)
            if handed or holdings:
                print(say("handed_over", count=handed), file=out)
        text = file_text(new, request.out, request.how)
        shared: str | None = None
        if db is not None and request.database_url and request.out == request.directory_path:
            result = await _share(request, db, text, current.version, handed, err)
            if isinstance(result, int):
                return result  # lost: the file is not written (a watcher on it would publish it over the winner)
            shared = result
    finally:
        if db is not None:
            await db.close()
    write_text(request.out, text)  # after its publication: a watcher on it finds the store's newest, nothing new
    print(say("written", path=request.out), file=out)
    if shared is not None:
        print(shared, file=out)
    return 0


async def _moved_on(request: Request, db: Database | None, current: Directory) -> Superseded | None:
    """PostgreSQL: another directory was published since the one this update started from (`served`), before
    anything is handed over or written; None when it is still the newest."""
    if not request.database_url or db is None or current.version is None:
        return None
    newest = await latest(db)
    if (newest.version if newest is not None else 0) == current.version:
        return None
    return Superseded(newest.version if newest is not None else 0, None)


async def _share(request: Request, db: Database, text: str, expected: int | None, handed: int,
                 err: TextIO) -> int | str:
    """PostgreSQL: publish the file's text to every running instance at once (bot/directory/shared.py), BEFORE the
    file is written: the watcher of a `gfi-bot run` on this machine then finds the file's digest as the store's
    newest (or an older version) and publishes nothing, and a lost publication leaves the file as it was (written,
    a watcher or a restart would publish it, unguarded, over the winner). Returns the line to print once the file
    is written, or the exit code when another publication came first (`handed`: cases handed over already)."""
    digest = digest_of(text.encode("utf-8"))  # published now, by the database's clock (not the file's time)
    try:  # only over the version this update started from: a publication meanwhile is not overwritten
        version = await publish(db, digest=digest, format=format_of(request.out), text=text, origin=origin(),
                                expected=expected)
    except Superseded as lost:
        print(say("superseded", version=lost.version, origin=lost.origin, path=request.out, handed=handed),
              file=err)
        return EXIT_REFUSED
    await seen(db, request.out, digest, request.instance_id)  # this machine's file: published here
    return say("shared", version=version) if version is not None else say("shared_already")


def _judge(request: Request, holdings: list[Holding], out: TextIO, err: TextIO) -> int | None:
    """Print what the leaving people hold; the exit code when the change is refused, else None."""
    if not holdings:
        return None
    stream = out if request.dry_run else err
    print(say("holdings_header", count=len(holdings)), file=stream)
    for h in holdings:
        print("  " + say("holding", h=h), file=stream)
    if any(h.to is None for h in holdings):
        print(say("blocked"), file=stream)
        return EXIT_REFUSED
    if request.force:
        return None
    if request.dry_run:
        print(say("dry_run_refused"), file=out)
        print(say("dry_run"), file=out)
        return 0
    print(say("refused"), file=err)
    return EXIT_REFUSED
