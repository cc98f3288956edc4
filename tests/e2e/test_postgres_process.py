"""`gfi-bot` on PostgreSQL as a real process (issue #22): a bad URL, an unreachable server, a refused password
and a newer schema are one Swedish line and exit 1 within 10 s, never showing the password; several
instances start on one database together (the migrations run once); SQLite refuses a newer schema too."""

from __future__ import annotations

import argparse
import asyncio
import io
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests import pg
from tests.e2e.test_process_guards import assert_refused, bot_env, gfi_bot

SECRET_PASSWORD = "hemligt-L0senord"


def needs_postgres() -> str:
    if pg.server() is None:
        pytest.skip("no PostgreSQL: set GFI_TEST_POSTGRES or install the binaries (.ci/run does)")
    return pg.fresh_database()


async def test_an_unreachable_server_is_one_line_within_ten_seconds(tmp_path: Path) -> None:
    url = f"postgresql://gfi:{SECRET_PASSWORD}@127.0.0.1:9/gfi?sslmode=disable"
    started = time.monotonic()
    result = await gfi_bot("console", "--as", "maria.sand", env=bot_env(tmp_path / "x", GFI_DATABASE_URL=url),
                           cwd=tmp_path, stdin="/hjälp\n")
    assert time.monotonic() - started < 10
    assert_refused(result, "svarar inte", "127.0.0.1:9/gfi")
    assert result.code == 1
    assert SECRET_PASSWORD not in result.err + result.out


async def test_a_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    result = await gfi_bot("console", "--as", "maria.sand",
                           env=bot_env(tmp_path / "x", GFI_DATABASE_URL="mysql://a@b/c"), cwd=tmp_path)
    assert_refused(result, "GFI_DATABASE_URL")


class Relay:
    """A TCP relay on 127.0.0.1 to the test server, noting when the first connection through it arrived: the
    moment a process reached the server, whatever its start-up (interpreter, imports) cost on a busy machine."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.first: float | None = None
        self.listen_port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.first is None:
            self.first = time.monotonic()
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_refused_password_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = needs_postgres()
    server = urlsplit(url)
    assert server.hostname is not None and server.port is not None
    # the test cluster trusts loopback, so a user that does not exist stands for a refused login (the same
    # SQLSTATE class 28 as a wrong password)
    async with Relay(server.hostname, server.port) as relay:
        bad = (f"postgresql://nobody_{int(time.time())}:{SECRET_PASSWORD}@127.0.0.1:{relay.listen_port}"
               f"{server.path}")
        result = await gfi_bot("console", "--as", "maria.sand", env=bot_env(tmp_path / "x", GFI_DATABASE_URL=bad),
                               cwd=tmp_path, stdin="/hjälp\n")
        ended = time.monotonic()
    # refused within 10 s of reaching the server (not retried), timed from there: not the process's start-up
    assert relay.first is not None and ended - relay.first < 10
    assert result.code == 1
    assert_refused(result, "godtog inte användaren eller lösenordet")
    assert SECRET_PASSWORD not in result.err + result.out
    pg.drop_database(url)


async def test_a_newer_schema_is_refused_on_postgresql(tmp_path: Path) -> None:
    url = needs_postgres()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'x')")
    result = await gfi_bot("console", "--as", "maria.sand", env=bot_env(tmp_path / "x", GFI_DATABASE_URL=url),
                           cwd=tmp_path, stdin="/hjälp\n")
    assert_refused(result, "schemaversion 9999", "nyare gfi-bot")
    pg.drop_database(url)


async def test_a_newer_schema_is_refused_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "gfi.sqlite3"
    first = await gfi_bot("console", "--as", "maria.sand", env=bot_env(db), cwd=tmp_path, stdin="/hjälp\n")
    assert first.code == 0, first.err
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'x')")
    result = await gfi_bot("console", "--as", "maria.sand", env=bot_env(db), cwd=tmp_path, stdin="/hjälp\n")
    assert_refused(result, "schemaversion 9999")


async def test_three_instances_start_together_on_one_database_and_migrate_once(tmp_path: Path) -> None:
    url = needs_postgres()
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:  # an empty database: nothing migrated
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    env = bot_env(tmp_path / "unused.sqlite3", GFI_DATABASE_URL=url)
    results = await asyncio.gather(*(
        gfi_bot("console", "--as", "maria.sand", env=env, cwd=tmp_path, stdin="/hjälp\n") for _ in range(3)
    ))
    for result in results:
        assert result.code == 0, result.err
    with psycopg.connect(url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == sorted(set(versions)) and versions  # each migration once
    pg.drop_database(url)


async def test_migrate_store_copies_everything_and_the_counters_go_on(tmp_path: Path) -> None:
    from bot.clock import FrozenClock
    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core
    from tests.conftest import RecordingSender, local
    from tests.timekit import form

    url = needs_postgres()
    db = tmp_path / "gfi.sqlite3"
    clock = FrozenClock(local("2026-11-23T10:00"))
    settings = Settings(db_path=db, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    core = await open_core(settings, clock=clock, fallback=RecordingSender())
    first = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", first.ref, ["linnea.fors"])
    await core.tick()
    await core.close()
    with sqlite3.connect(db) as conn:
        audit_rows = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        outbox_rows = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert audit_rows >= 2 and outbox_rows >= 1

    result = await gfi_bot("migrate-store", "--to", url, "--db", str(db), env=bot_env(db), cwd=tmp_path)
    assert result.code == 0, result.err
    assert "antalen stämmer" in result.out
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit").fetchone() == (audit_rows,)
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (outbox_rows,)

    # the copy is a working store: the case is there and the next one is numbered after it
    from pydantic import SecretStr

    settings.database_url = SecretStr(url)
    core = await open_core(settings, clock=clock, fallback=RecordingSender())
    try:
        assert (await core.cases.get(first.ref)).ref == first.ref
        second = await core.cases.request("maria.sand", form())
        assert second.ref == "GFI-2026-0002"
    finally:
        await core.close()
    again = await gfi_bot("migrate-store", "--to", url, "--db", str(db), env=bot_env(db), cwd=tmp_path)
    assert again.code == 1 and "redan ärenden" in again.err  # never merged into a store in use
    pg.drop_database(url)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_migrate_store_shows_progress_on_a_terminal_only(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy draws `Kopierar till PostgreSQL: N %` on a terminal (as backup and purge do), nothing when
    stderr is not one; the progress is called with rows copied of all rows."""
    from bot.clock import FrozenClock
    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core
    from bot.migrate_store import cmd_migrate_store
    from bot.store import transfer
    from tests.conftest import RecordingSender, local
    from tests.timekit import form

    db = tmp_path / "gfi.sqlite3"
    settings = Settings(db_path=db, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    core = await open_core(settings, clock=FrozenClock(local("2026-11-23T10:00")), fallback=RecordingSender())
    for _ in range(3):
        await core.cases.request("maria.sand", form())
    await core.close()
    calls: list[tuple[int, int]] = []
    first = needs_postgres()
    counts = await transfer.migrate_store(db, first, lambda done, total: calls.append((done, total)))
    pg.drop_database(first)
    assert calls and calls[-1] == (sum(counts.values()), sum(counts.values()))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    for terminal in (True, False):
        stderr = _Terminal() if terminal else io.StringIO()
        monkeypatch.setattr(sys, "stderr", stderr)
        url = needs_postgres()
        code = await asyncio.to_thread(cmd_migrate_store, argparse.Namespace(to=url, db=str(db)))
        assert code == 0
        if terminal:
            assert "Kopierar till PostgreSQL: 100 %" in stderr.getvalue()
            assert "Kopierar till PostgreSQL: klart" in stderr.getvalue()
        else:
            assert stderr.getvalue() == ""
        pg.drop_database(url)


async def test_a_copy_the_server_refuses_is_one_line_and_nothing_is_kept(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement the server refuses mid-copy (here: the rollups' seeded row, as before the fix, when the
    target's derived rows were not cleared) ends in one Swedish line naming the table and SQLSTATE, exit 1,
    no traceback, and the target keeps nothing of the copy."""
    from bot.clock import FrozenClock
    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core
    from bot.migrate_store import cmd_migrate_store
    from bot.store import rollups
    from tests.conftest import RecordingSender, local
    from tests.timekit import form

    db = tmp_path / "gfi.sqlite3"
    settings = Settings(db_path=db, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    core = await open_core(settings, clock=FrozenClock(local("2026-11-23T10:00")), fallback=RecordingSender())
    await core.cases.request("maria.sand", form())
    await core.close()
    with sqlite3.connect(db) as conn:  # the source's rollups are built (migration 0030 or a rebuild)
        assert conn.execute("SELECT COUNT(*) FROM stats_rollup_state").fetchone() == (1,)
    url = needs_postgres()
    with psycopg.connect(url) as conn:  # so is a fresh target's
        assert conn.execute("SELECT COUNT(*) FROM stats_rollup_state").fetchone() == (1,)
    monkeypatch.setattr(rollups, "TABLES", ())
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = await asyncio.to_thread(cmd_migrate_store, argparse.Namespace(to=url, db=str(db)))
    assert code == 1
    assert stderr.getvalue().strip().splitlines() == [
        "Kopieringen stämde inte (stats_rollup_state:23505); inget sparades i PostgreSQL."]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM cases").fetchone() == (0,)
    pg.drop_database(url)


def test_the_hash_chained_logs_are_append_only_on_postgresql() -> None:
    """Migration 20 on PostgreSQL (as SQLite's): no row without its hash, no existing id again, no UPDATE but
    sealing a pre-chain row once, no DELETE, no TRUNCATE."""
    url = needs_postgres()

    def refused(conn: psycopg.Connection[object], sql: str) -> bool:
        try:
            conn.execute(sql)
        except psycopg.errors.RaiseException as exc:
            return "append-only" in str(exc)
        return False

    with psycopg.connect(url, autocommit=True) as conn:
        audit = "INSERT INTO audit (id, at, actor_id, action, result, hash) VALUES (1, 'a', 'x', 'y', 'ok', {})"
        assert refused(conn, audit.format("NULL"))
        conn.execute(audit.format("'h1'"))
        assert refused(conn, audit.format("'h2'"))
        assert refused(conn, "UPDATE audit SET hash = 'z' WHERE id = 1")
        assert refused(conn, "DELETE FROM audit WHERE id = 1")
        assert refused(conn, "TRUNCATE audit")
        conn.execute("ALTER TABLE case_reads DISABLE TRIGGER case_reads_no_replace")  # rows from before the chain
        conn.execute("INSERT INTO case_reads (id, at, person_id, case_ref, view, channel) "
                     "VALUES (5, 'a', 'p', 'r', 'v', 'c'), (6, 'a', 'p', 'r', 'v', 'c')")
        conn.execute("ALTER TABLE case_reads ENABLE TRIGGER case_reads_no_replace")
        conn.execute("UPDATE case_reads SET hash = 'h' WHERE id = 5")
        assert refused(conn, "UPDATE case_reads SET hash = 'h2' WHERE id = 5")
        assert refused(conn, "UPDATE case_reads SET hash = 'h', view = 'w' WHERE id = 6")
    pg.drop_database(url)
