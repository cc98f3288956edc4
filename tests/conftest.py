"""Shared fixtures: a core on a temporary SQLite file with a frozen clock and a recording sender."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.directory import Directory
from bot.outbox import OutboxMessage

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(text: str) -> datetime:
    """`2026-11-24T09:00` as an aware Stockholm datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


@dataclass
class Sent:
    recipient: str
    template: str
    text: str
    case_ref: str | None


class RecordingSender:
    """A channel sender that remembers what it delivered."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def send(self, message: OutboxMessage) -> str | None:
        self.sent.append(Sent(message.recipient_id, message.template, message.text, message.case_ref))
        return f"rec-{len(self.sent)}"

    def to(self, person: str, template: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.recipient == person and (template is None or s.template == template)]

    def templates(self) -> list[tuple[str, str]]:
        return [(s.recipient, s.template) for s in self.sent]

    def clear(self) -> None:
        self.sent.clear()


CoreFactory = Callable[..., Awaitable[Core]]


@pytest.fixture
def clock() -> FrozenClock:
    # Monday 23 November 2026, 10:00 in Stockholm: a working day inside office hours.
    return FrozenClock(local("2026-11-23T10:00"))


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def engine() -> str:
    """The store the test runs on: SQLite here; the folders whose tests also run on PostgreSQL override it
    (tests/integration/conftest.py) with both."""
    return "sqlite"


def postgres_url() -> str:
    """A fresh, migrated PostgreSQL database for one test (skips the test when there is no server)."""
    from tests import pg

    if pg.server() is None:
        pytest.skip("no PostgreSQL: set GFI_TEST_POSTGRES or install the binaries (.ci/run does)")
    return pg.fresh_database()


@pytest.fixture
async def make_core(
    tmp_path: Path, clock: FrozenClock, sender: RecordingSender, engine: str,
) -> AsyncIterator[CoreFactory]:
    """Build cores on one database (build again to simulate a restart): a SQLite file, or one PostgreSQL
    database per `db_name` when `engine` is postgresql."""
    cores: list[Core] = []
    urls: dict[str, str] = {}

    async def factory(directory: Directory | None = None, db_name: str = "gfi.sqlite3", **options: Any) -> Core:
        settings = Settings(db_path=tmp_path / db_name, directory_path=DEFAULT_DIRECTORY, _env_file=None)
        if engine == "postgresql":
            if db_name not in urls:
                urls[db_name] = postgres_url()
            settings.database_url = SecretStr(urls[db_name])
        core = await open_core(settings, clock=clock, fallback=sender, directory=directory, **options)
        cores.append(core)
        return core

    yield factory
    for core in cores:
        await core.close()
    if urls:
        from tests import pg

        for url in urls.values():
            pg.drop_database(url)


@pytest.fixture
async def core(make_core: CoreFactory) -> Core:
    return await make_core()
