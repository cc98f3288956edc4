"""Persistence: one SQLite database reached through `Database`, and every SQL statement the bot runs.

The rest of the bot calls repository functions per domain (`cases`, `ladder`, `timers`, `audit`, `reads`,
`distribution`, `slack`, `deliveries`, `due`), each taking an open `Tx` and returning rows or plain values,
so that another database can be added here without touching services, handlers or templates. The store
never imports the domain (`bot.cases`, `bot.ladder`, ...): domain objects are built there from the rows.
"""

from bot.store.db import Database, Tx

__all__ = ["Database", "Tx"]
