"""Brister i samverkan through the core: filing, the privacy guard, drafts from the ladder, working a report,
who is told, the audit, and listing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot import audit
from bot.brister.models import BristForm, BristState, Cause, DraftStatus
from bot.brister.service import BristService
from bot.cases.service import GfiRequest
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from tests.conftest import RecordingSender, local
from tests.timekit import advance, assigned_case


def svc(core: Core) -> BristService:
    return core.brister


def form(**overrides: object) -> BristForm:
    data: dict[str, object] = {
        "units": ["soc-norr", "beroende"], "causes": ["kommunikation", "Rutiner"],
        "what": "Tre kontakter med beroendemottagningen blev obesvarade under två veckor.",
    }
    data.update(overrides)
    return BristForm(**data)  # type: ignore[arg-type]


async def test_filing_names_the_reference_and_tells_the_units_and_coordinators(
    core: Core, sender: RecordingSender
) -> None:
    report = await svc(core).file("maria.sand", form(measures="Vi ringer i stället för att mejla.",
                                                     case_ref="gfi-2026-0004"))
    assert report.ref == "BRIST-2026-0001" and report.state is BristState.SUBMITTED
    assert report.causes == [Cause.KOMMUNIKATION, Cause.RUTINER]
    assert report.principals == ["astad", "region-sydvast"]
    assert report.case_ref == "GFI-2026-0004" and report.measures_at is not None
    second = await svc(core).file("omar.haddad", form(units=["psykiatri"], causes=["sip"]))
    assert second.ref == "BRIST-2026-0002"
    await core.tick()
    told = sorted(s.recipient for s in sender.sent if s.case_ref == report.ref)
    assert told == ["anna.lind", "fatima.ali", "jonas.sjo", "sara.holm"]  # not the reporter, not staff
    [msg] = sender.to("fatima.ali", "brist_filed")
    assert "BRIST-2026-0001" in msg.text and "Tre kontakter" in msg.text and "/åtgärd BRIST-2026-0001" in msg.text


@pytest.mark.parametrize("field", ["what", "measures", "dialogue"])
async def test_an_identity_number_in_any_text_field_stores_nothing(core: Core, sender: RecordingSender,
                                                                    field: str) -> None:
    with pytest.raises(FieldError) as exc:
        await svc(core).file("maria.sand", form(**{field: "Gäller 19121212-1212, man 45 år."}))
    key = {"what": "handelse", "measures": "atgarder", "dialogue": "dialog"}[field]
    assert exc.value.errors[key][0] == "identity_number"
    message = core.renderer.field_errors(exc.value)[key]
    assert "personnummer" in message and "1212" not in message and "Inget har sparats" in message
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM brister") == 0
    await core.tick()
    assert not [s for s in sender.sent if s.template.startswith("brist")]


async def test_every_problem_of_the_form_is_named(core: Core) -> None:
    with pytest.raises(FieldError) as exc:
        await svc(core).file("maria.sand", BristForm(units=[], causes=[], what="x" * 2001,
                                                     measures="y" * 2001, case_ref="nej"))
    errors = {k: v[0] for k, v in exc.value.errors.items()}
    assert errors == {"berorda": "required", "orsaker": "required", "handelse": "too_long",
                      "atgarder": "too_long", "arende": "bad_case_ref"}
    texts = core.renderer.field_errors(exc.value)
    assert texts["handelse"] == "Vad hände får vara högst 2000 tecken."
    assert texts["berorda"] == "Berörda verksamheter måste fyllas i."
    with pytest.raises(FieldError) as exc:
        await svc(core).file("maria.sand", form(units=["soc-norr", "okand"], causes=["kaos"]))
    assert {k: v[0] for k, v in exc.value.errors.items()} == {"berorda": "unknown_unit", "orsaker": "unknown_cause"}


async def test_working_a_report_draft_to_closed_is_audited(core: Core, sender: RecordingSender) -> None:
    report = await svc(core).file("maria.sand", form())
    with pytest.raises(Refusal, match="brist_not_found"):
        await svc(core).record_measures("ingrid.vik", report.ref, "Något")  # her unit is not named
    assert (await svc(core).get("maria.sand", report.ref)).ref == report.ref  # the reporter reads it (#18 item 13)
    with pytest.raises(Refusal, match="brist_not_unit"):
        await svc(core).record_measures("maria.sand", report.ref, "Något")  # but the units record the measures
    r = await svc(core).record_measures("fatima.ali", report.ref, "Funktionsbrevlåda införd.")
    assert r.state is BristState.SUBMITTED and r.measures == "Funktionsbrevlåda införd."
    r = await svc(core).record_dialogue("anna.lind", report.ref, "Parterna träffades och gick igenom rutinen.")
    assert r.state is BristState.DIALOGUE_HELD
    with pytest.raises(Refusal, match="brist_not_coordinator"):
        await svc(core).close("anna.lind", report.ref)
    r = await svc(core).close("sara.holm", report.ref)
    assert r.state is BristState.CLOSED and r.closed_at is not None
    with pytest.raises(Refusal, match="brist_wrong_state"):
        await svc(core).record_measures("fatima.ali", report.ref, "Mer")
    async with core.db.transaction() as tx:
        trail = [(a["actor_id"], a["action"], a["result"]) for a in await audit.for_case(tx, report.ref)]
    assert trail == [
        ("maria.sand", "brist_file", "ok"),
        ("ingrid.vik", "brist_measures", "refused"),
        ("maria.sand", "brist_measures", "refused"),  # reading it is not audited, only the refusal
        ("fatima.ali", "brist_measures", "ok"),
        ("anna.lind", "brist_dialogue", "ok"),
        ("anna.lind", "brist_close", "refused"),
        ("sara.holm", "brist_close", "ok"),
        ("fatima.ali", "brist_measures", "refused"),
    ]
    await core.tick()
    assert sender.to("jonas.sjo", "brist_changed")
    closed = [s.recipient for s in sender.sent if s.template == "brist_changed" and "har stängt" in s.text]
    assert sorted(closed) == ["anna.lind", "fatima.ali", "maria.sand"]  # the one who filed it too, with measures
    assert "Funktionsbrevlåda införd." in sender.to("maria.sand", "brist_changed")[-1].text


async def test_measures_are_guarded_and_bounded(core: Core) -> None:
    report = await svc(core).file("maria.sand", form())
    with pytest.raises(FieldError) as exc:
        await svc(core).record_dialogue("fatima.ali", report.ref, "Samordningsnummer 701063-2391 nämndes")
    assert exc.value.errors["dialog"][0] == "identity_number"
    with pytest.raises(FieldError) as exc:
        await svc(core).record_measures("fatima.ali", report.ref, "  ")
    assert exc.value.errors["atgarder"][0] == "required"
    assert (await svc(core).get("jonas.sjo", report.ref)).dialogue is None


async def test_listing_by_role_year_and_unit(core: Core, clock: FrozenClock) -> None:
    clock.set(local("2025-12-30T10:00"))
    old = await svc(core).file("maria.sand", form(units=["soc-norr", "psykiatri"]))
    clock.set(local("2026-01-05T10:00"))
    new = await svc(core).file("maria.sand", form(units=["beroende", "vc-centrum"]))
    assert old.ref == "BRIST-2025-0001" and new.ref == "BRIST-2026-0001"
    refs = lambda reports: [r.ref for r in reports]  # noqa: E731
    assert refs(await svc(core).list_reports("jonas.sjo")) == [old.ref, new.ref]
    assert refs(await svc(core).list_reports("jonas.sjo", year=2026)) == [new.ref]
    assert refs(await svc(core).list_reports("jonas.sjo", unit="psykiatri")) == [old.ref]
    assert refs(await svc(core).list_reports("ingrid.vik")) == [old.ref]  # psykiatri's distributor
    assert refs(await svc(core).list_reports("ingrid.vik", unit="beroende")) == []
    assert refs(await svc(core).list_reports("maria.sand")) == [old.ref, new.ref]  # the ones she filed
    with pytest.raises(Refusal, match="brist_list_not_allowed"):
        await svc(core).list_reports("omar.haddad")
    assert refs(await svc(core).year_reports(2025)) == [old.ref]


async def top_rung_draft(core: Core, clock: FrozenClock, sender: RecordingSender) -> int:
    """An acknowledgement nobody gave climbs to the coordinator, who gets a draft (see test_ladder)."""
    clock.set(local("2026-11-23T10:00"))
    await assigned_case(core)
    await core.tick()
    await advance(core, clock, sender, local("2026-11-23T10:00") + timedelta(days=8), step=timedelta(hours=1))
    async with core.db.transaction() as tx:
        [row] = await tx.fetchall("SELECT id FROM brist_drafts")
    return int(row["id"])


async def test_a_draft_from_the_ladder_is_prefilled_and_submitted(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    draft_id = await top_rung_draft(core, clock, sender)
    [draft] = await svc(core).open_drafts("jonas.sjo")
    assert draft.id == draft_id and draft.status is DraftStatus.DRAFT
    prefilled = svc(core).draft_form(draft)
    assert prefilled.units == ["soc-norr", "beroende"] and prefilled.causes == ["kommunikation"]
    assert prefilled.case_ref == "GFI-2026-0001"
    assert prefilled.what.startswith("Kvittering av fördelat ärende väntade sedan mån 23 nov")
    assert "efter 3 dagar" in prefilled.what
    assert "Man, 45 år" not in prefilled.what  # never the brief
    with pytest.raises(Refusal, match="brist_draft_not_found"):
        await svc(core).draft("fatima.ali", draft_id)
    with pytest.raises(Refusal, match="brist_not_coordinator"):
        await svc(core).open_drafts("fatima.ali")
    sender.clear()
    report = await svc(core).submit_draft("jonas.sjo", draft_id, BristForm(
        causes=["kommunikation", "rutiner"], measures="Fördelaren har fått en ersättare."))
    assert report.causes == [Cause.KOMMUNIKATION, Cause.RUTINER]
    assert report.case_ref == "GFI-2026-0001" and report.draft_id == draft_id
    assert report.what == prefilled.what and report.measures == "Fördelaren har fått en ersättare."
    assert await svc(core).open_drafts("jonas.sjo") == []
    with pytest.raises(Refusal, match="brist_draft_decided"):
        await svc(core).dismiss_draft("jonas.sjo", draft_id, "Dubblett")
    await core.tick()
    assert sender.to("fatima.ali", "brist_filed") and sender.to("anna.lind", "brist_filed")
    async with core.db.transaction() as tx:
        [entry] = [a for a in await audit.for_case(tx, report.ref) if a["action"] == "brist_draft_submit"]
    assert json.loads(entry["detail"])["draft"] == draft_id


async def test_a_draft_can_be_dismissed_with_a_reason(core: Core, clock: FrozenClock,
                                                      sender: RecordingSender) -> None:
    draft_id = await top_rung_draft(core, clock, sender)
    with pytest.raises(FieldError) as exc:
        await svc(core).dismiss_draft("jonas.sjo", draft_id, "")
    assert exc.value.errors["skal"][0] == "required"
    with pytest.raises(FieldError):
        await svc(core).dismiss_draft("jonas.sjo", draft_id, "Se 19121212-1212")
    draft = await svc(core).dismiss_draft("jonas.sjo", draft_id, "Fördelaren var sjuk, inte en systembrist.")
    assert draft.status is DraftStatus.DISMISSED
    assert draft.dismissed_reason == "Fördelaren var sjuk, inte en systembrist."
    assert await svc(core).open_drafts("sara.holm") == []
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM brister") == 0


async def test_the_case_reference_is_shown_only_to_those_who_may_know_the_case(
    core: Core, sender: RecordingSender
) -> None:
    case = await core.cases.request("maria.sand", GfiRequest(
        target_unit="beroende", case_type="ny-en", brief="Man, 45 år.", consent_confirmed=True, children="nej"))
    report = await svc(core).file("maria.sand", form(case_ref=case.ref))
    assert report.case_ref == case.ref  # the reporter typed it
    # fatima.ali distributes the waiting case: she sees it; anna.lind (soc-norr) and the coordinators do not
    assert (await svc(core).get("fatima.ali", report.ref)).case_ref == case.ref
    assert (await svc(core).get("anna.lind", report.ref)).case_ref is None
    assert [r.case_ref for r in await svc(core).list_reports("jonas.sjo")] == [None]
    await core.tick()
    assert case.ref in sender.to("fatima.ali", "brist_filed")[0].text
    assert case.ref not in sender.to("anna.lind", "brist_filed")[0].text
    assert case.ref not in sender.to("sara.holm", "brist_filed")[0].text
