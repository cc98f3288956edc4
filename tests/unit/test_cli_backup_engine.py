"""`gfi-bot backup` copies a SQLite file. With the store on PostgreSQL (GFI_DATABASE_URL) it refuses rather than
copy whatever SQLite file lies at GFI_DB_PATH (after `migrate-store`, the old store) and call that a backup."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from bot.cli.store import cmd_backup


@pytest.fixture
def old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gfi-bot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("GFI_DB_PATH", str(path))
    return path


def test_on_postgresql_backup_refuses_and_names_pg_dump(old_store: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GFI_DATABASE_URL", "postgresql://gfi:hemligt@127.0.0.1:1/gfi")
    out = tmp_path / "backup.sqlite3"
    assert cmd_backup(argparse.Namespace(db=None, out=str(out))) == 1
    err = capsys.readouterr().err
    assert "pg_dump" in err and "GFI_DATABASE_URL" in err
    assert "hemligt" not in err
    assert not out.exists()


def test_a_named_sqlite_file_is_still_copied(old_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GFI_DATABASE_URL", "postgresql://gfi@127.0.0.1:1/gfi")
    out = tmp_path / "backup.sqlite3"
    assert cmd_backup(argparse.Namespace(db=str(old_store), out=str(out))) == 0
    assert out.exists()


def test_on_sqlite_nothing_changes(old_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GFI_DATABASE_URL", raising=False)
    out = tmp_path / "backup.sqlite3"
    assert cmd_backup(argparse.Namespace(db=None, out=str(out))) == 0
    assert out.exists()
