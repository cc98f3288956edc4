"""Forms rendered once and kept, for every channel: a form that depends only on the directory's version, the day
and a key (the person opening it) is rendered once each and kept as its JSON text (`KeptTexts`). Slack's /gfi
view (`bot.channels.slack.views.ViewCache`) and Teams' request card (`bot.channels.teams.cards.kept_form_card`)
keep theirs here."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date

from bot.directory.lookup import Tables

# What the kept texts may take together, per channel: about 50 /gfi forms of a directory of 1,000 units, several
# hundred of the example's.
KEPT_BYTES = 4 * 1024 * 1024


class KeptTexts:
    """Texts that depend only on the directory's version, the day and a key: made once each and kept as text only
    (a string: no objects to walk or free), at most `max_bytes` of it together, the least recently used let go
    first. A new directory version or a new day empties it. It holds the directory's tables by a weak reference
    only: a reload frees the old ones on its own thread, as it would without the cache
    (`bot.directory.lookup.Tables`).

    For the request form, which a person opens many times a day: rendering it costs more CPU than the rest of
    the command together."""

    def __init__(self, max_bytes: int = KEPT_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0  # the kept texts' length together
        self._tables: weakref.ref[Tables] | None = None
        self._day: date | None = None
        self._texts: OrderedDict[Hashable, str] = OrderedDict()

    def text(self, tables: Tables, day: date, key: Hashable, make: Callable[[], str]) -> str:
        """The text for `key` under these tables on `day`: kept, or made now by `make()` and kept."""
        if self._tables is None or self._tables() is not tables or self._day != day:
            self._texts, self.size = OrderedDict(), 0
            self._tables, self._day = weakref.ref(tables), day
        text = self._texts.get(key)
        if text is not None:
            self._texts.move_to_end(key)
            return text
        text = make()
        if len(text) <= self.max_bytes:
            self._texts[key] = text
            self.size += len(text)
            while self.size > self.max_bytes:
                self.size -= len(self._texts.popitem(last=False)[1])
        return text
