"""Versioned schema migrations, applied in order at start-up.

The statements live in `bot.store.schema_1` (1–7), `bot.store.schema_2` (8–14) and `bot.store.schema_3` (15 on),
so that no module grows past a screenful of SQL. Append a new (version, sql) pair to the last of them; never
edit one that has shipped.
"""

from __future__ import annotations

from bot.store.schema_1 import SCHEMA_1
from bot.store.schema_2 import SCHEMA_2
from bot.store.schema_3 import SCHEMA_3

MIGRATIONS: list[tuple[int, str]] = [*SCHEMA_1, *SCHEMA_2, *SCHEMA_3]
