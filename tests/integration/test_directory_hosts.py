"""`directory_hosts` keys a machine by its /etc/machine-id (hashed), not its host name, and forgets machines not
seen for `HOSTS_KEPT` (#22 item 5, loose end): containers and cloned VMs repeat host names, and replaced or
renamed machines left rows for ever."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import Core
from bot.directory import shared
from bot.store import directory_versions

BOTH = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


def test_a_machine_is_its_hashed_machine_id_whatever_its_host_name(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("4c4c4544004b3510804cb4c04f565931\n", encoding="ascii")
    monkeypatch.setattr(shared, "MACHINE_ID", machine_id)
    file = tmp_path / "directory.yaml"
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "gfi-bot-7d9f")
    first = shared.host_of(file)
    monkeypatch.setattr(shared.socket, "gethostname", lambda: "gfi-bot-x2k4")  # the same machine, renamed
    assert shared.host_of(file) == first
    assert first.startswith("machine-") and first.endswith(f":{file.resolve()}")
    assert "4c4c4544" not in first and "gfi-bot-" not in first  # the id is hashed, the name not used
    machine_id.write_text("0f0e0d0c0b0a09080706050403020100\n", encoding="ascii")  # another machine, same name
    assert shared.host_of(file) != first


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
