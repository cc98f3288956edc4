"""The store's layout per engine (issue #22): migrations versioned per dialect, and the PostgreSQL dialect's
translation of the repositories' SQLite statements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.dialects import postgresql
from bot.store.migrations import ENGINES, FOLDER, latest, migrations


def test_every_engine_has_every_schema_version() -> None:
    """A migration added for one engine only would leave the other behind: both folders end at one number."""
    assert {latest(engine) for engine in ENGINES} == {latest("sqlite")}
    for engine in ENGINES:
        versions = [v for v, _ in migrations(engine)]
        assert versions == sorted(set(versions)), engine
        names = [p.name for p in (FOLDER / engine).iterdir() if p.suffix == ".sql"]
        assert len(names) == len(versions), f"{engine}: a file not named NNNN_name.sql"


def test_placeholders_and_literals() -> None:
    sql = "SELECT * FROM t WHERE a = ? AND b LIKE '50%' AND c = :name AND d::text = ? -- 100% sure?\n"
    assert postgresql.translate(sql) == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '50%%' AND c = %(name)s AND d::text = %s -- 100%% sure?\n"
    )
    assert postgresql.translate("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , %s"


def test_json_each_is_and_the_catalogue() -> None:
    assert postgresql.translate("SELECT value FROM json_each(?)") == (
        "SELECT value FROM jsonb_array_elements_text(CAST(%s AS jsonb)) AS json_each(value)"
    )
    assert postgresql.translate("WHERE a.x IS b.y AND c IS NOT :z AND d IS NULL AND e IS NOT NULL") == (
        "WHERE a.x IS NOT DISTINCT FROM b.y AND c IS DISTINCT FROM %(z)s AND d IS NULL AND e IS NOT NULL"
    )
    assert "information_schema.tables" in postgresql.translate(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
    assert postgresql.returning_id("INSERT INTO t (a) VALUES (%s)") == "INSERT INTO t (a) VALUES (%s) RETURNING id"


@settings(deadline=None)  # pure string work: timed out once at 408 ms under a load of 9 on 2 cores
@given(st.text(alphabet="ab?%:' \n-", max_size=40))
def test_translation_never_loses_a_placeholder_outside_quotes(sql: str) -> None:
    """Every `?` outside quotes and comments becomes one `%s`; every `%` is doubled (psycopg reads `%%`)."""
    out = postgresql.placeholders(sql)
    unescaped = out.replace("%%", "")
    assert all(unescaped[i + 1] in "s(" for i, c in enumerate(unescaped) if c == "%")


def test_one_of_is_one_statement_whatever_the_number_of_values_on_postgresql() -> None:
    """A sweep's batch reads its cases by reference and their rows by id (#21 item 3): on PostgreSQL the values go
    as one array, so the statement's text is the same for 1 and 100 values (psycopg parses it once and prepares
    it; an IN list of more than 50 placeholders was parsed at every run and planned again by the server)."""
    from bot.store.dialects import sqlite

    one, many = postgresql.one_of("ref", ["A"], "text"), postgresql.one_of("ref", [f"R{i}" for i in range(100)], "text")
    assert one[0] == many[0] == "ref = ANY(CAST(? AS text[]))"
    assert one[1] == [["A"]] and len(many[1]) == 1 and len(many[1][0]) == 100
    assert sqlite.one_of("id", [1, 2], "bigint") == ("id IN (?, ?)", [1, 2])
