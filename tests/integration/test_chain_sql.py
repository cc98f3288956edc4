"""The hash chain made by the server (PostgreSQL, `bot.store.chain.append`) is byte for byte the one Python makes
(`chain.row_hash`, which `gfi-bot verify-logs` checks): on adversarial text (control characters, U+2028, quotes,
backslashes, emoji, every plane), NULLs and large integers. A filing's audit row is hashed by the server in its
last trip, from the head it reads under the log's lock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import logchain
from bot.store import chain
from bot.store.dialects import postgresql as dialect
from bot.store.tx import Tx
from tests.conftest import CoreFactory

# Text PostgreSQL can hold: every character but NUL (refused by the server's text type, see below) and the lone
# surrogates (not characters: Python's UTF-8 encoder refuses them, so no row holds one on either engine).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
NASTY = ["", "\"", "\\", "\\\"", "\b\f\n\r\t", "\x01\x1f\x7f\x80\x9f", "\u2028\u2029", "\ufeff\ufffe\uffff",
         "😀👩‍👧", "å ä ö Å", "</script>", "{\"a\":[1,2]}", "\U0010ffff", "'; DROP TABLE audit; --", "%s %(x)s ?"]
INTEGERS = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection[Any]]:
    from tests import pg as cluster

    if cluster.server() is None:
        pytest.skip("no PostgreSQL: set GFI_TEST_POSTGRES or install the binaries (.ci/run does)")
    url = cluster.fresh_database()
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn
    cluster.drop_database(url)


def server_hash(conn: psycopg.Connection[Any], table: str, prev: str, row: dict[str, Any]) -> str:
    columns = chain.COLUMNS[table]
    kinds = ["bigint" if c in chain.INTEGERS else "text" for c in columns]
    values = ", ".join(f"CAST(? AS {k}) AS {c}" for c, k in zip(columns, kinds, strict=True))
    expr = dialect.chain_hash(table, "v.prev", [(f"v.{c}", k) for c, k in zip(columns, kinds, strict=True)])
    sql = dialect.translate(f"SELECT {expr} FROM (SELECT CAST(? AS text) AS prev, {values}) AS v")
    found = conn.execute(sql, (prev, *(row[c] for c in columns))).fetchone()
    assert found is not None
    return str(found[0])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prev=st.one_of(st.just(""), TEXT), texts=st.lists(st.one_of(TEXT, st.sampled_from(NASTY), st.none()),
                                                          min_size=6, max_size=6),
       ids=st.tuples(st.integers(min_value=0, max_value=2**63 - 1), INTEGERS))
@example(prev="", texts=["\u2028", "\"\\", "x", "😀", "\x1f", "\x7f"], ids=(1, None))
def test_the_server_hashes_a_row_as_python_does(pg: psycopg.Connection[Any], prev: str, texts: list[str | None],
                                                 ids: tuple[int, int | None]) -> None:
    at, actor, action, result, ref, detail = texts
    audit = {"id": ids[0], "at": at, "actor_id": actor, "action": action, "result": result, "case_id": ids[1],
             "case_ref": ref, "detail": detail}
    assert server_hash(pg, "audit", prev, audit) == chain.row_hash("audit", prev, audit)
    reads = {"id": ids[0], "at": at, "person_id": actor, "case_ref": ref, "view": action, "channel": detail}
    assert server_hash(pg, "case_reads", prev, reads) == chain.row_hash("case_reads", prev, reads)


def test_text_with_nul_never_reaches_the_server(pg: psycopg.Connection[Any]) -> None:
    """PostgreSQL's text holds no NUL: such a row is refused before any hash is made (on either path), so the
    server's hash is never asked for one."""
    with pytest.raises(psycopg.DataError):
        pg.execute("SELECT CAST(%s AS text)", ("a\x00b",))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_rows_appended_by_the_server_verify(make_core: CoreFactory, engine: str) -> None:
    """Rows appended with `chain.append` (the server's hash on PostgreSQL, Python's on SQLite) after rows chained
    in Python, and again after: `verify-logs` finds the chain whole, and the ids follow each other."""
    core = await make_core()

    async def python(tx: Tx, n: int) -> None:
        [row] = await chain.chained(tx, "audit", [{"at": f"2026-11-23T10:0{n}", "actor_id": "maria.sand",
                                                   "action": "test", "result": "ok", "case_id": None,
                                                   "case_ref": None, "detail": "{}"}])
        await tx.write("INSERT INTO audit (id, at, actor_id, action, result, case_id, case_ref, detail, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tuple(row[c] for c in (*chain.COLUMNS["audit"], "hash")))

    async def server(tx: Tx, text: str) -> None:
        await chain.append(tx, "audit", {"at": "2026-11-23T10:00", "actor_id": text, "action": "test",
                                         "result": "ok", "case_id": None, "case_ref": text, "detail": text})

    await core.db.run(lambda tx: server(tx, "first \u2028 😀"))
    await core.db.run(lambda tx: python(tx, 1))
    for text in NASTY:
        await core.db.run(lambda tx, text=text: server(tx, text))  # type: ignore[misc]
    await core.db.run(lambda tx: python(tx, 2))
    assert [(s.log, s.broken) for s in await logchain.verify(core.db)] == [("audit", None), ("case_reads", None)]
    async with core.db.read() as tx:
        ids = [r["id"] for r in await tx.fetchall("SELECT id FROM audit ORDER BY id")]
    assert ids == list(range(1, len(NASTY) + 4))
