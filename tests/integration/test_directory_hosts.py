"""`directory_hosts` keys a machine by `GFI_INSTANCE_ID`, else its /etc/machine-id with its host name (hashed), and
forgets machines not seen for `HOSTS_KEPT` (#22 item 5, loose end): cloned VMs repeat host names, containers of one
image share its machine id, and replaced or renamed machines left rows for ever. A row keyed by the machine id alone
(before) is read until the machine writes its new key."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.core import Core
from bot.directory import shared
from bot.store import directory_versions
from tests.conftest import CoreFactory

BOTH = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


def _machine_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> Path:
    machine_id = tmp_path / "machine-id"
    machine_id.write_text(value, encoding="ascii")
    monkeypatch.setattr(shared, "MACHINE_ID", machine_id)
    return machine_id


def test_a_machine_is_its_hashed_machine_id_and_host_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine_id = _machine_id(tmp_path, monkeypatch, "4c4c4544004b3510804cb4c04f565931\n")
    file = tmp_path / "directory.yaml"
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "gfi-bot-7d9f")
    first = shared.host_of(file)
    assert first == shared.host_of(file)
    assert first.startswith("machine-") and first.endswith(f":{file.resolve()}")
    assert "4c4c4544" not in first and "gfi-bot-" not in first  # hashed: neither the id nor the name shows
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "gfi-bot-x2k4")  # a second container of the image
    assert shared.host_of(file) != first
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "gfi-bot-7d9f")
    machine_id.write_text("0f0e0d0c0b0a09080706050403020100\n", encoding="ascii")  # another machine, same name
    assert shared.host_of(file) != first


def test_an_instance_id_keys_it_whatever_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GFI_INSTANCE_ID (Settings.instance_id), where containers share one machine id and are created again with new
    host names: the same instance keeps its key, two instances have two."""
    machine_id = _machine_id(tmp_path, monkeypatch, "4c4c4544004b3510804cb4c04f565931\n")
    file = tmp_path / "directory.yaml"
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "3f2a9c1d0e7b")
    first = shared.host_of(file, "gfi-1")
    assert first.startswith("instance-") and first.endswith(f":{file.resolve()}") and "gfi-1" not in first
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "a81c66e0b2f4")  # the container created again
    machine_id.write_text("0f0e0d0c0b0a09080706050403020100\n", encoding="ascii")
    assert shared.host_of(file, "gfi-1") == first
    assert shared.host_of(file, "gfi-2") != first
    assert shared.host_of(file, " ") == shared.host_of(file)  # blank: unset
    monkeypatch.setenv("GFI_INSTANCE_ID", "gfi-7")
    assert Settings(_env_file=None).instance_id == "gfi-7"  # type: ignore[call-arg]


@BOTH
async def test_a_row_keyed_by_the_machine_id_alone_keeps_working(core: Core, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine recorded before (key: its machine id alone, hashed) is no machine never recorded after the upgrade:
    its row is read while its new key has none, and its next `seen` writes the new key, which is read from then on."""
    _machine_id(tmp_path, monkeypatch, "4c4c4544004b3510804cb4c04f565931\n")
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "vm-17")
    file = tmp_path / "d.yaml"
    old_key = "machine-" + hashlib.sha256(b"gfi-bot directory_hosts 4c4c4544004b3510804cb4c04f565931").hexdigest()[:32]
    assert shared.hosts_of(file) == [shared.host_of(file), f"{old_key}:{file.resolve()}"]
    await directory_versions.seen(core.db, f"{old_key}:{file.resolve()}", "before")
    assert await shared.last_seen(core.db, file) == "before"
    assert await shared.last_seen(core.db, file, "gfi-1") == "before"  # an instance id set at the upgrade too
    await directory_versions.seen(core.db, shared.host_of(file), "after")
    assert await shared.last_seen(core.db, file) == "after"
    monkeypatch.setattr(shared, "MACHINE_ID", tmp_path / "none")  # no machine id: the host name, as before
    assert shared.hosts_of(file) == [f"vm-17:{file.resolve()}"]


def test_without_a_readable_machine_id_the_host_name_keys_it(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "vm-17")
    file = tmp_path / "directory.yaml"
    for missing in (tmp_path / "none", tmp_path / "empty"):
        if missing.name == "empty":
            missing.write_text("\n", encoding="ascii")
        monkeypatch.setattr(shared, "MACHINE_ID", missing)
        assert shared.host_of(file) == f"vm-17:{file.resolve()}"


@BOTH
async def test_machines_not_seen_for_long_are_forgotten(core: Core) -> None:
    old = (datetime.now(UTC) - directory_versions.HOSTS_KEPT).replace(year=2020).isoformat()
    recent = datetime.now(UTC).isoformat()
    async with core.db.transaction() as tx:
        await tx.execute("INSERT INTO directory_hosts (host, digest, seen_at) VALUES ('gone:/d.yaml', 'a', ?), "
                         "('kept:/d.yaml', 'b', ?)", (old, recent))
    await directory_versions.seen(core.db, "here:/d.yaml", "c")
    async with core.db.transaction() as tx:
        hosts = [r["host"] for r in await tx.fetchall("SELECT host FROM directory_hosts WHERE host LIKE '%:/d.yaml' "
                                                      "ORDER BY host")]
    assert hosts == ["here:/d.yaml", "kept:/d.yaml"]  # (on PostgreSQL the core's own start is recorded too)
    assert await directory_versions.last_seen(core.db, "gone:/d.yaml") is None


def test_an_uninitialized_machine_id_is_no_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("uninitialized\n", encoding="ascii")  # systemd: an image whose id is made at first boot
    monkeypatch.setattr(shared, "MACHINE_ID", machine_id)
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "vm-17")
    assert shared.host_of(tmp_path / "d.yaml") == f"vm-17:{(tmp_path / 'd.yaml').resolve()}"


async def _until(done: Callable[[], Awaitable[bool]]) -> None:
    ends = time.monotonic() + 10
    while not await done():
        assert time.monotonic() < ends, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_two_machines_starting_together_do_not_deadlock_forgetting_each_other(make_core: CoreFactory) -> None:
    """Machines a and b, both not seen for long, start together while c's transaction holds a third old row. Each
    `seen` updated its own row, then deleted every old one: a waited for c's row, b for a's, and once c let go a
    wanted b's: a deadlock (review of d4dc8a4). A row another transaction holds is now left for the next time."""
    a, b, c = await make_core(), await make_core(), await make_core()
    old = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
    async with a.db.transaction() as tx:
        await tx.execute("INSERT INTO directory_hosts (host, digest, seen_at) VALUES ('c:/d.yaml', 'c', ?), "
                         "('a:/d.yaml', 'a', ?), ('b:/d.yaml', 'b', ?)", (old, old, old))

    async def waiting(n: int) -> bool:
        found = await a.db.run_read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))
        return int(found) >= n

    async with c.db.transaction() as tx:
        await tx.fetchall("SELECT host FROM directory_hosts WHERE host = 'c:/d.yaml' FOR UPDATE")
        first = asyncio.create_task(directory_versions.seen(a.db, "a:/d.yaml", "a2"))
        await _until(lambda: _done_or(first, waiting(1)))
        second = asyncio.create_task(directory_versions.seen(b.db, "b:/d.yaml", "b2"))
        await _until(lambda: _done_or(second, waiting(2)))
    await asyncio.wait_for(asyncio.gather(first, second), 10)  # no deadlock
    assert await directory_versions.last_seen(a.db, "a:/d.yaml") == "a2"
    assert await directory_versions.last_seen(a.db, "b:/d.yaml") == "b2"


async def _done_or(task: asyncio.Task[None], other: Awaitable[bool]) -> bool:
    if task.done():
        other.close()  # type: ignore[attr-defined]
        return True
    return await other


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_running_machine_says_it_is_still_here_about_once_a_day(core: Core, tmp_path: Path) -> None:
    """Refreshed by the file's 30-second check, so another machine's `seen` does not forget it while it runs."""
    path = tmp_path / "d.yaml"
    host = shared.host_of(path)
    old = datetime(2020, 1, 1, tzinfo=UTC).isoformat()

    async def aged() -> str:
        async with core.db.transaction() as tx:
            value = str(await tx.scalar("SELECT seen_at FROM directory_hosts WHERE host = ?", (host,)))
            await tx.execute("UPDATE directory_hosts SET seen_at = ? WHERE host = ?", (old, host))
        return value

    await directory_versions.seen(core.db, host, "x")
    await aged()
    directory = core.shared_directory
    assert isinstance(core.clock, FrozenClock)
    await directory.still_here(path)
    assert await aged() == old  # the core's start said so today already
    for _ in range(2):
        core.clock.advance(timedelta(days=1))
        await directory.still_here(path)
        assert await aged() != old  # a day later: refreshed
        await directory.still_here(path)
        assert await aged() == old  # not again the same day


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_instance_records_its_start_under_its_instance_id(make_core: CoreFactory,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`gfi-bot run` (the core's start, PostgreSQL) records its file under GFI_INSTANCE_ID's key."""
    monkeypatch.setenv("GFI_INSTANCE_ID", "gfi-1")
    core = await make_core()
    assert core.settings.instance_id == "gfi-1"
    path = core.settings.directory_path
    assert await directory_versions.last_seen(core.db, shared.host_of(path, "gfi-1")) is not None
    assert await directory_versions.last_seen(core.db, shared.host_of(path)) is None


@BOTH
async def test_a_new_container_after_the_upgrade_is_not_the_frozen_old_row(core: Core, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """(review of e5cb600, rev-f) The pre-upgrade row (machine id alone) is read once only: the first container's
    `seen` under its new key deletes it. Left, frozen at its old digest, it made a container created again (new host
    name, same image machine id) "recorded" for HOSTS_KEPT (180 days) instead of never recorded, and its image-baked
    file, older than the store's newest, was published as an edit."""
    _machine_id(tmp_path, monkeypatch, "4c4c4544004b3510804cb4c04f565931\n")
    file = tmp_path / "d.yaml"
    old_key = "machine-" + hashlib.sha256(b"gfi-bot directory_hosts 4c4c4544004b3510804cb4c04f565931").hexdigest()[:32]
    await directory_versions.seen(core.db, f"{old_key}:{file.resolve()}", "before")
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "3f2a9c1d0e7b")
    assert await shared.last_seen(core.db, file) == "before"  # the upgrade's first start: fine
    await shared.seen(core.db, file, "after")  # it serves a newer file since (`SharedDirectory._seen`, `update`)
    assert await shared.last_seen(core.db, file) == "after"
    assert await directory_versions.last_seen(core.db, f"{old_key}:{file.resolve()}") is None
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "a81c66e0b2f4")  # the container created again
    assert await shared.last_seen(core.db, file) is None  # never recorded (was "before": a digest no one serves)
