"""A throw-away PostgreSQL cluster for the tests that also run on PostgreSQL (issue #22).

`GFI_TEST_POSTGRES=postgresql://…` uses a server you run (each test gets a database of its own, created from
a migrated template). Without it, the first test that needs one starts a cluster: `initdb` on a temporary
folder and `pg_ctl` on a free loopback port (as the `postgres` user when run as root: initdb refuses root),
with fsync off (a test cluster, never for a bench). No binaries and no URL: those tests are skipped, and
`.ci/run` installs the Debian package first so that CI always runs them.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "gfi_template"
_counter = itertools.count(1)
_server: str | None = None
_template_ready = False
_free: list[str] = []  # emptied databases, ready for the next test


def binaries() -> Path | None:
    """The newest PostgreSQL bin folder on the machine (Debian's layout), or the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_cluster(*, durable: bool = False, options: str = "") -> str:
    """Start a cluster for this test run (stopped and removed at exit); its base URL. Tests run it with fsync
    off; `durable` (a benchmark) keeps PostgreSQL's defaults; `options`: more server settings (`-c name=value`)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL binaries")
    folder = Path(tempfile.mkdtemp(prefix="gfi-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    port = _free_port()
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_owner([
        str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
        + ("" if durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        + (f" {options}" if options else ""),
        "start",
    ]), check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}"


def server() -> str | None:
    """The base URL of the test server (started on first use), or None when there is none."""
    global _server
    if _server is None:
        url = os.environ.get("GFI_TEST_POSTGRES")
        if url:
            _server = url.rstrip("/")
        elif binaries() is not None:
            _server = start_cluster()
        else:
            return None
    return _server


def _admin(base: str) -> psycopg.Connection[object]:
    return psycopg.connect(f"{base}/postgres", autocommit=True)


def fresh_database() -> str:
    """A new, migrated, empty database; its URL. The first call migrates a template (the bot's own
    migrations, through `PostgresDatabase`), the others copy it (fast)."""
    global _template_ready
    base = server()
    assert base is not None
    if not _template_ready:
        import asyncio

        from bot.store.postgres import PostgresDatabase

        with _admin(base) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")

        async def migrate() -> None:
            db = PostgresDatabase(f"{base}/{TEMPLATE}")
            await db.open()
            await db.close()

        asyncio.run(migrate()) if not _in_loop() else _run_in_thread(migrate)
        _template_ready = True
    if _free:
        return _free.pop()
    name = f"gfi_test_{os.getpid()}_{next(_counter)}"
    with _admin(base) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return f"{base}/{name}"


def _seeds() -> list[str]:
    """The PostgreSQL migrations that seed rows (each written to be run again: ON CONFLICT DO NOTHING).
    A recycled database without them once hid a bug that only a fresh database showed (migrate-store and
    migration 0030's rollup row)."""
    folder = Path(__file__).parent.parent / "bot" / "store" / "migrations" / "postgresql"
    return [f.read_text() for f in sorted(folder.glob("*.sql")) if "INSERT INTO" in f.read_text().upper()]


def drop_database(url: str) -> None:
    """Give a test's database back: emptied (every table truncated, ids restarted; the append-only
    triggers are bypassed as replication does) for the next test, which is much faster than a new one."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'schema_migrations'")]
            if not tables:
                return
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
                for seed in _seeds():  # as fresh as a new database: the rows migrations seed, seeded again
                    conn.execute(seed)
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    except psycopg.Error:
        return
    from bot.store.migrations import latest

    if versions and max(versions) == latest("postgresql"):
        _free.append(url)


def _in_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(fn: object) -> None:
    import asyncio
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(fn())  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
