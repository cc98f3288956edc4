"""The store's public names, where the repositories and the rest of the bot have always imported them from.

`bot.store.unit` is the unit of work for every engine (`Tx`, `Store.run`, one trip to the database thread);
`bot.store.sqlite` is the SQLite engine, `Database`, the default store; `bot.store.postgres` the PostgreSQL one.
"""

from bot.store.sqlite import Database
from bot.store.unit import (
    READERS,
    Params,
    Store,
    Tx,
    UnitOfWorkError,
    Work,
    Worker,
    _Conn,
    drive,
    transaction_observers,
)

__all__ = ["READERS", "Database", "Params", "Store", "Tx", "UnitOfWorkError", "Work", "Worker", "_Conn", "drive",
           "transaction_observers"]
