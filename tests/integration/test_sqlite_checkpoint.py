"""SQLite's write-ahead log is copied back into the database by a connection of its own, beside the writers: the
commit that crosses SQLite's 1,000-page mark no longer does it while it holds the write lock."""

from __future__ import annotations

from pathlib import Path

from bot.store import Tx
from bot.store.sqlite import Database


def size(path: Path) -> int:
    return path.stat().st_size


async def test_the_log_is_checkpointed_beside_the_writer_not_in_its_commit(tmp_path: Path) -> None:
    db = Database(tmp_path / "gfi.sqlite3")
    await db.open()
    try:
        async def pages(tx: Tx) -> int:
            await tx.execute("CREATE TABLE IF NOT EXISTS filler (x TEXT)")
            await tx.executemany("INSERT INTO filler (x) VALUES (?)", [("x" * 4000,) for _ in range(1500)])
            return int(await tx.scalar("PRAGMA wal_autocheckpoint"))

        assert await db.run(pages) == 0  # the writer never checkpoints in a commit
        await db._checkpoint_done()  # the write started one on the checkpoint thread
        path = tmp_path / "gfi.sqlite3"
        assert size(path) > 1500 * 4000  # the log's pages are in the database file
        assert size(Path(f"{path}-wal")) > 4_000_000  # past SQLite's own mark, left to the checkpoint thread
    finally:
        await db.close()
