"""PostgreSQL: the repositories' SQLite statements, translated once per distinct statement (cached).

- placeholders: `?` becomes `%s` and `:name` becomes `%(name)s` (psycopg's), a literal `%` becomes `%%`;
  quoted strings, quoted names, comments and `::` casts are left alone;
- JSON lists stay text (as on SQLite); `json_each(x)` becomes `jsonb_array_elements_text(CAST(x AS jsonb))
  AS json_each(value)`, so `value` and `json_each.value` read the same on both;
- SQLite's `a IS b` between values is `a IS NOT DISTINCT FROM b` (and `IS NOT` is `IS DISTINCT FROM`);
- the table catalogue: `sqlite_master … type = 'table' AND name = ?` reads `information_schema.tables`;
- an INSERT whose new id is wanted gets `RETURNING id` (PostgreSQL has no last row id);
- upserts (`ON CONFLICT … DO UPDATE/NOTHING`, `excluded.`) and `RETURNING` are the same in both;
- times are the same ISO 8601 text as on SQLite (compared as text), so no time arithmetic differs;
- locking: row locks and `FOR UPDATE SKIP LOCKED` where several instances compete (the outbox's heads are
  claimed with a lease, `CLAIMS`), advisory locks for the migrations and the leader (`bot.store.postgres`);
- many rows in one statement (a sweep's batch, `rows`): one JSON parameter, not a VALUES list of a
  parameter per value, so the statement's text is the same for every batch (psycopg prepares it after a few
  runs: the server parses and plans it once) and the client sends one value instead of adapting thousands;
- changes other instances keep in memory: `pg_notify` and `LISTEN` (`bot.store.changes`);
- erasure on disk: a DELETE or UPDATE leaves the old row version in the table's pages until VACUUM;
  `PostgresDatabase.scrub` runs VACUUM on the tables that hold free text after a withdrawal or a purge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

NAME = "postgresql"
# Outbox rows being sent are claimed with a lease (`bot.store.outbox_lanes`): several instances deliver.
CLAIMS = True
# A WITH may hold INSERT/UPDATE statements (one statement where SQLite needs several: `cases.send_case`).
WRITES_IN_WITH = True
# A filing stores its case under a provisional reference and takes the year's number (the counter's row, held to
# the commit) only in its last trip, with the commit (`cases.take_ref`): the section filings take turns in is
# then the server's work alone, not the instance's Python between two trips.
LATE_REF = True
# A statement's answer comes back with a trip to the server: reads that do not wait for each other are sent together.
ANSWERED_AT_ONCE = False

_JSON_EACH = re.compile(r"\bjson_each\(([^()]*)\)")
# SQLite's `a IS b` / `a IS NOT b` between values (equal, NULLs included) is standard IS [NOT] DISTINCT FROM.
_IS_VALUE = re.compile(r"\bIS\s+(NOT\s+)?(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b|NOT\b)([A-Za-z_][\w.]*|\?|:\w+)",
                       re.IGNORECASE)
_CATALOGUE = re.compile(r"\bsqlite_master\s+WHERE\s+type\s*=\s*'table'\s+AND\s+name\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """The statement as PostgreSQL (through psycopg) runs it."""
    sql = _JSON_EACH.sub(r"jsonb_array_elements_text(CAST(\1 AS jsonb)) AS json_each(value)", sql)
    sql = _IS_VALUE.sub(lambda m: f"IS {'' if m.group(1) else 'NOT '}DISTINCT FROM {m.group(2)}", sql)
    sql = _CATALOGUE.sub("information_schema.tables WHERE table_schema = current_schema() AND table_name", sql)
    return placeholders(sql)


def returning_id(sql: str) -> str:
    """An INSERT that gives back the new row's id."""
    return sql if re.search(r"\bRETURNING\b", sql, re.IGNORECASE) else sql.rstrip().rstrip(";") + " RETURNING id"


def placeholders(sql: str) -> str:
    """`?` → `%s`, `:name` → `%(name)s`, `%` → `%%`, outside quotes and comments."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):  # a quoted string or name, with doubled quotes inside
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1].replace("%", "%%"))
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        elif c == ":":
            if sql.startswith("::", i):
                out.append("::")
                i += 2
                continue
            m = re.match(r":([A-Za-z_][A-Za-z0-9_]*)", sql[i:])
            if m:
                out.append(f"%({m.group(1)})s")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def serialise_appends() -> str | None:
    """The statement that makes one writer at a time append to a hash-chained log (`bot.store.chain`): a
    transaction-level advisory lock per log (its number the parameter), held until commit or rollback, so that
    the head read and the rows written after it are never interleaved with another instance's."""
    return "SELECT pg_advisory_xact_lock(?)"


def chain_hash(table: str, prev: str, values: Sequence[tuple[str, str]]) -> str | None:
    """The SQL expression of `bot.store.chain.row_hash(table, prev, row)`: `prev` the previous hash (an SQL text
    expression), `values` the row's columns in the chain's order as (SQL expression, "bigint" or "text"). Byte
    for byte Python's `json.dumps([table, prev, [values…]], ensure_ascii=False, separators=(",", ":"))`:
    `to_json(text)` escapes `"`, `\\`, \\b \\f \\n \\r \\t and the other control characters as `\\u00xx` (lowercase) and
    leaves everything else as it is, as `json.dumps(ensure_ascii=False)` does (tests/integration/test_chain_sql.py
    checks it on adversarial text); a NULL is `null`, an integer its digits. The text is hashed as UTF-8."""
    def json_of(expr: str, kind: str) -> str:
        if kind == "bigint":
            return f"coalesce(CAST(CAST({expr} AS bigint) AS text), 'null')"
        return f"coalesce(CAST(to_json(CAST({expr} AS text)) AS text), 'null')"

    items = " || ',' || ".join(json_of(expr, kind) for expr, kind in values)
    head = json.dumps([table], ensure_ascii=False)[:-1]  # '["audit"'
    return (f"encode(sha256(convert_to('{head},' || {json_of(prev, 'text')} || ',[' || {items} || ']]', 'UTF8')),"
            " 'hex')")


def zero_pad(expr: str, digits: int) -> str:
    """The integer `expr` as text with at least `digits` digits, zero-padded (Python's `f"{n:0{digits}d}"`;
    `lpad` alone would cut a longer number)."""
    return f"(SELECT lpad(n.t, greatest({digits}, length(n.t)), '0') FROM (SELECT CAST({expr} AS text) AS t) AS n)"


def lock_rows() -> str:
    """The clause that locks the rows a write transaction reads until it ends: a case action reads its case with
    it, so that two actions on one case (on one instance or two) take turns, the second seeing what the first
    committed, as on SQLite. NO KEY: the lock does not block the KEY SHARE lock that an insert of a row
    referencing the case takes (an awaited item, a timer: their foreign keys), so a transaction
    that writes such a row for the case never waits on the action, nor the action on it (two of them, one holding
    what the other needs next, would deadlock). Nothing updates a case's key."""
    return " FOR NO KEY UPDATE"


def unflushed_commit() -> str | None:
    """The statement that lets this transaction's COMMIT return before its WAL is flushed to disk (the sweep's
    batches, `bot.fires.apply`): `SET LOCAL`, so it ends with the transaction and never reaches another unit
    on the pooled connection. A server crash may lose such a commit, never half of it, and only together with
    everything committed after it: any later commit that waits for the flush (every other unit, the outbox's
    claims among them) writes the WAL up to itself, the unflushed commits before it included."""
    return "SET LOCAL synchronous_commit = off"


def lock_to_delete() -> str:
    """The clause that locks rows a write transaction will delete, before it decides on them (the nightly purge
    takes its cases' rows first, in id order): FOR UPDATE, the lock the DELETE would take; a row changed by
    another transaction meanwhile is read again as committed, and left out when it no longer matches."""
    return " FOR UPDATE"


def skip_locked(alias: str) -> str:
    """The clause that locks the rows read from `alias` and skips those another instance's transaction holds
    (several dispatchers read the outbox's heads at once: each gets different rows, none waits)."""
    return f" FOR UPDATE OF {alias} SKIP LOCKED"


def notify() -> str | None:
    """The statement that tells the other instances about a change (`bot.store.changes`), its channel and
    payload the parameters: sent when the transaction commits, never if it rolls back."""
    return "SELECT pg_notify(?, ?)"


def one_of(column: str, values: Sequence[Any], kind: str) -> tuple[str, list[Any]]:
    """The condition that `column` is one of `values` (of `kind`: "bigint", "text"), and its parameters: here one
    array parameter, so the statement's text is the same for any number of values (psycopg converts it once and
    prepares it; a list of placeholders longer than 50 is parsed again at every run, and planned again by the
    server)."""
    return f"{column} = ANY(CAST(? AS {kind}[]))", [list(values)]


def rows(types: Sequence[str], values: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """Many rows as one relation to select from, its columns `column1`…`columnN` of `types` ("bigint",
    "integer", "text"): the FROM item (use it `AS v`) and its one parameter, the rows as a JSON array of arrays.
    The statement is the same text whatever the number of rows (prepared once, see the module)."""
    columns = ", ".join(f"CAST(e.value ->> {i} AS {kind}) AS column{i + 1}" for i, kind in enumerate(types))
    # values as a parameter of their own would be (bot.store.postgres): booleans 0/1, dates and times as text
    plain = [[int(v) if isinstance(v, bool) else v for v in row] for row in values]
    return (f"(SELECT {columns} FROM jsonb_array_elements(CAST(? AS jsonb)) AS e(value))",
            [json.dumps(plain, ensure_ascii=False, default=str)])
