"""The intake of a late filing (issue #21 item 2): nothing answered "registreras" is lost.

Slack wants the answer to a form within three seconds. A filing that cannot finish in time (the write
connection busy) is answered "Din GFI-förfrågan registreras …" and goes on in the background. Before that
answer, `keep` stores the form durably on the store's second write connection (`Store.run_aside`, not queued
behind the busy one), under the submission's idempotency key. When the filing ends, however it ends, `forget`
deletes it. Should the process die in between, `replay` at the next start files every form still kept: the
idempotency key makes a form whose filing did commit come back as its case, not a second one, and the new
case's receipt tells the requester the reference, as the "registreras" answer promised.

With several instances on one PostgreSQL store, a form kept by another instance may be in the middle of its
filing: an instance that starts files only the forms kept longer than `STALE` ago, and the leader's sweep files
those left behind by an instance that died (`replay_stale`, at most once per `LOOK_EVERY`: `StaleForms`). On
SQLite there is one process, which files every form it kept at its next start; its sweep looks too, at the same
pace, for a form whose filing failed (a full disk at start) or whose `forget` failed: it is filed while the
process runs, not weeks later or never. A form that could not be filed for `GIVE_UP` (looked for every minute
all that time) is dropped with its text by the nightly purge, never kept for ever.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cases.request import GfiRequest
from bot.errors import FieldError, Refusal
from bot.store import intake as store

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

STALE = timedelta(minutes=2)  # a filing answered "registreras" ends within seconds: one kept longer was left behind
GIVE_UP = timedelta(days=7)  # a kept form not filed in a week (refused by a failing store every time) is dropped
LOOK_EVERY = timedelta(minutes=1)  # how often the leader's sweep looks for forms left behind


def dumps(form: GfiRequest) -> str:
    """A request form as JSON (dates as ISO 8601)."""
    return json.dumps(asdict(form), ensure_ascii=False, default=lambda v: v.isoformat())


def loads(text: str) -> GfiRequest:
    """A request form from `dumps`."""
    fields: dict[str, Any] = json.loads(text)
    until = fields.get("consent_valid_until")
    fields["consent_valid_until"] = date.fromisoformat(until) if until else None
    return GfiRequest(**fields)


async def keep(core: Core, key: str, person_id: str, form: GfiRequest, channel: str = "slack") -> None:
    """Store the form durably before the filing is answered "registreras" (see the module)."""
    text, now = dumps(form), core.clock.now()
    await core.db.run_aside(lambda tx: store.keep(tx, key=key, channel=channel, person_id=person_id, form=text,
                                                  now=now))


async def forget(core: Core, key: str) -> None:
    """The filing under `key` has ended: its form is no longer kept."""
    await core.db.run(lambda tx: store.forget(tx, key))


async def replay_at_start(core: Core) -> int:
    """At start: every form still kept on SQLite (one process: none is being filed); on PostgreSQL only those
    kept longer than `STALE` ago (another instance may be filing the others now)."""
    return await replay(core, older_than=STALE if core.db.engine == "postgresql" else None)


async def replay_stale(core: Core) -> int:
    """In the leader's sweep: the forms left behind (kept longer than `STALE` ago) by an instance that died, or
    whose filing failed (a full disk) or whose `forget` failed."""
    return await replay(core, older_than=STALE)


class StaleForms:
    """When the leader's sweep looks for forms left behind (`replay_stale`): at most once per `LOOK_EVERY` of the
    core's clock, not at every sweep, on either engine. On PostgreSQL an instance that died left them; on SQLite
    too the one process may have left one (its filing at start failed on a full disk, or its `forget` did):
    `replay_stale` files only forms kept longer than `STALE` ago, idempotent by key, so it is safe there."""

    def __init__(self) -> None:
        self._looked: datetime | None = None

    async def look(self, core: Core) -> int:
        """File the forms left behind, if it is time to look (see the class); how many were filed."""
        now = core.clock.now()
        if self._looked is not None and timedelta(0) <= now - self._looked < LOOK_EVERY:
            return 0  # (a clock that went back looks at once, not after the step)
        self._looked = now
        return await replay_stale(core)


async def drop_abandoned(core: Core) -> int:
    """In the nightly purge: forget the forms kept longer than `GIVE_UP` (their text goes with them)."""
    before = core.clock.now() - GIVE_UP
    dropped = await core.db.run(lambda tx: store.drop_older(tx, before))
    if dropped:
        log.warning("kept forms dropped", extra={"event": "intake.dropped", "count": dropped})
    return dropped


async def replay(core: Core, *, older_than: timedelta | None = None) -> int:
    """File every form still kept (a process that died before its filing ended), or those kept longer than
    `older_than` ago; returns how many were filed. A form the rules now refuse (the directory changed
    meanwhile) is logged and dropped; one that fails otherwise is kept for the next try."""
    before = core.clock.now() - older_than if older_than is not None else None
    filed = 0
    for row in await core.db.run_read(lambda tx: store.kept(tx, before)):
        try:
            case = await core.cases.request(row["person_id"], loads(row["form"]), idempotency_key=row["key"])
        except (FieldError, Refusal) as exc:
            reason = exc.code if isinstance(exc, Refusal) else ",".join(sorted(exc.errors))
            log.warning("kept form refused", extra={"event": "intake.refused", "reason": reason})
        except Exception:
            log.exception("kept form not filed", extra={"event": "intake.failed"})
            continue
        else:
            filed += 1
            log.info("kept form filed", extra={"event": "intake.filed", "case_ref": case.ref})
        await forget(core, row["key"])
    return filed
