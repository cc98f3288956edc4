"""The intake of a late filing (issue #21 item 2, `bot.intake`): a form answered "registreras" is kept durably
before the answer, and filed at the next start if the process stopped before its filing committed; filed once
whatever happened, with its receipt telling the reference."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import intake
from bot.cases.request import GfiRequest
from bot.core import Core
from bot.store import Tx
from tests.conftest import CoreFactory
from tests.timekit import form

FULL = form(urgent=True, contact="0450-12 30 00", consent_scope=["soc-norr", "beroende"],
            consent_valid_until=date(2027, 3, 1), consent_covers=["kontaktuppgifter"], consent_note="å \"citat\"",
            consent_form="muntligt", consent_obtained_by="maria.sand", other_contacts="Mamma", names_checked=True)


async def count(core: Core, sql: str) -> int:
    async def read(tx: Tx) -> int:
        return int(await tx.scalar(sql))

    return await core.db.run_read(read)


@given(brief=st.text(max_size=200), note=st.none() | st.text(max_size=50),
       until=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
@settings(max_examples=50, deadline=None)
def test_a_kept_form_reads_back_as_it_was(brief: str, note: str | None, until: date | None) -> None:
    original = GfiRequest(**{**FULL.__dict__, "brief": brief, "consent_note": note, "consent_valid_until": until})
    assert intake.loads(intake.dumps(original)) == original


async def test_a_form_kept_by_a_process_that_stopped_is_filed_at_the_next_start(make_core: CoreFactory) -> None:
    first = await make_core()
    await intake.keep(first, "view:V1:abc", "maria.sand", FULL)
    await first.close()  # stopped before the filing committed

    second = await make_core()
    assert await intake.replay(second) == 1
    assert await count(second, "SELECT COUNT(*) FROM cases") == 1
    assert await count(second, "SELECT COUNT(*) FROM intake") == 0
    receipt = await count(second, "SELECT COUNT(*) FROM outbox WHERE template = 'case_filed' "
                                  "AND recipient_id = 'maria.sand' AND message LIKE '%GFI-2026-0001%'")
    assert receipt == 1  # the reference the "registreras" answer promised
    # the same submission again (Slack retries, the user submits once more): the one case
    case = await second.cases.request("maria.sand", FULL, idempotency_key="view:V1:abc")
    assert case.ref == "GFI-2026-0001"
    assert await intake.replay(second) == 0


async def test_a_form_whose_filing_committed_is_not_filed_twice(core: Core) -> None:
    filed = await core.cases.request("maria.sand", FULL, idempotency_key="view:V2:abc")
    await intake.keep(core, "view:V2:abc", "maria.sand", FULL)  # kept after the filing: not kept at all
    assert await count(core, "SELECT COUNT(*) FROM intake") == 0

    await intake.keep(core, "view:V3:abc", "maria.sand", FULL)
    again = await core.cases.request("maria.sand", FULL, idempotency_key="view:V3:abc")  # committed, then a crash
    await intake.replay(core)  # before the form was let go of
    assert await count(core, "SELECT COUNT(*) FROM cases") == 2
    assert await count(core, "SELECT COUNT(*) FROM intake") == 0
    assert {filed.ref, again.ref} == {"GFI-2026-0001", "GFI-2026-0002"}


async def test_a_kept_form_the_rules_now_refuse_is_dropped(core: Core) -> None:
    await intake.keep(core, "view:V4:abc", "nobody.here", FULL)
    assert await intake.replay(core) == 0
    assert await count(core, "SELECT COUNT(*) FROM intake") == 0
    assert await count(core, "SELECT COUNT(*) FROM cases") == 0


async def test_an_instance_that_starts_leaves_the_forms_others_are_filing_and_the_sweep_files_the_stale(
    make_core: CoreFactory,
) -> None:
    """Several instances on PostgreSQL (issue #22): a form another instance kept a moment ago may be in the
    middle of its filing; only one kept longer than STALE ago was left behind. On SQLite (one process) every
    form kept is filed at start."""
    first = await make_core()
    await intake.keep(first, "view:V5:abc", "maria.sand", FULL)
    await first.close()
    second = await make_core()
    if second.db.engine == "postgresql":
        assert await intake.replay_at_start(second) == 0  # kept just now: perhaps being filed elsewhere
        assert await intake.replay_stale(second) == 0
        second.clock.advance(intake.STALE + timedelta(seconds=1))  # type: ignore[attr-defined]
        assert await intake.replay_stale(second) == 1  # left behind: the leader's sweep files it
    else:
        assert await intake.replay_at_start(second) == 1
    assert await count(second, "SELECT COUNT(*) FROM cases") == 1
    assert await count(second, "SELECT COUNT(*) FROM intake") == 0


async def test_a_form_that_can_never_be_filed_is_dropped_with_its_text_after_a_week(core: Core) -> None:
    await intake.keep(core, "view:V6:abc", "maria.sand", FULL)
    assert await intake.drop_abandoned(core) == 0
    core.clock.advance(intake.GIVE_UP + timedelta(seconds=1))  # type: ignore[attr-defined]
    await intake.keep(core, "view:V7:abc", "maria.sand", FULL)
    assert await intake.drop_abandoned(core) == 1
    assert await count(core, "SELECT COUNT(*) FROM intake") == 1  # the one kept since stays


async def test_a_form_whose_filing_failed_at_start_is_filed_by_a_later_look_while_the_process_runs(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite too (one process): a form kept, whose filing at the next start fails (a full disk), is filed by
    the sweep's look for forms left behind while the process runs, not dropped by the purge a week later with
    the requester told "registreras" (review of issue #21 item 3)."""
    first = await make_core()
    await intake.keep(first, "view:V8:abc", "maria.sand", FULL)
    await first.close()  # stopped before the filing committed

    second = await make_core()
    request = second.cases.request

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(second.cases, "request", failing)
    assert await intake.replay_at_start(second) == 0  # the filing at start fails: the form stays kept
    assert await count(second, "SELECT COUNT(*) FROM intake") == 1
    monkeypatch.setattr(second.cases, "request", request)  # space came back

    looks = intake.StaleForms()
    second.clock.advance(intake.STALE + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await looks.look(second) == 1  # the sweep's look files it
    assert await count(second, "SELECT COUNT(*) FROM cases") == 1
    assert await count(second, "SELECT COUNT(*) FROM intake") == 0
    receipt = await count(second, "SELECT COUNT(*) FROM outbox WHERE template = 'case_filed' "
                                  "AND recipient_id = 'maria.sand' AND message LIKE '%GFI-2026-0001%'")
    assert receipt == 1
    second.clock.advance(intake.GIVE_UP)  # type: ignore[attr-defined]
    assert await intake.drop_abandoned(second) == 0  # nothing left for the purge to drop
