"""The GFI case through the service: lifecycle, refusals, privacy, consent and concurrency."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot import audit
from bot.cases.models import CaseState, CloseReason
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from tests.conftest import RecordingSender, local
from tests.timekit import form

# A syntactically valid personnummer (checksum ok) of nobody in particular.
VALID_PNR = "811218-9876"


async def audit_actions(core: Core, ref: str) -> list[tuple[str, str, str]]:
    async with core.db.transaction() as tx:
        return [(r["actor_id"], r["action"], r["result"]) for r in await audit.for_case(tx, ref)]


async def test_whole_lifecycle_notifies_each_party(core: Core, sender: RecordingSender, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    assert case.ref == "GFI-2026-0001"
    assert case.state is CaseState.REQUESTED
    await core.tick()
    [receipt] = sender.to("maria.sand", "case_filed")
    assert "GFI-2026-0001" in receipt.text
    assert "tis 24 nov 2026 kl. 09:00" in receipt.text  # beroende distributes Tuesdays and Thursdays 09:00

    case = await core.cases.assign("fatima.ali", case.ref, ["linnea.fors", "sofia.grahn"])
    assert case.state is CaseState.ASSIGNED
    await core.tick()
    assert sender.to("linnea.fors", "assigned_to_you") and sender.to("sofia.grahn", "assigned_to_you")
    [told] = sender.to("maria.sand", "case_assigned")
    assert "Linnea Fors" in told.text and "Sofia Grahn" in told.text

    case = await core.cases.acknowledge("linnea.fors", case.ref)
    assert case.state is CaseState.ACKNOWLEDGED
    meeting = local("2026-11-30T13:00")
    case = await core.cases.book(
        "linnea.fors", case.ref, meeting, "Beroendemottagningen, rum 3", ["soc-norr", "beroende"]
    )
    assert case.state is CaseState.MEETING_BOOKED and case.meeting_at == meeting

    clock.set(local("2026-11-30T14:30"))
    case = await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", evaluation_done=True)
    assert case.state is CaseState.MEETING_HELD
    case = await core.cases.add_follow_up(
        "linnea.fors", case.ref, "maria.sand", date(2026, 12, 14), "Stämma av utredningen"
    )
    assert case.state is CaseState.FOLLOW_UP
    case = await core.cases.close("linnea.fors", case.ref, "genomford", follow_ups="avbryt")
    assert case.state is CaseState.CLOSED and case.closed_reason is CloseReason.COMPLETED
    case = await core.cases.reopen("maria.sand", case.ref)
    assert case.state is CaseState.FOLLOW_UP

    actions = [a for _, a, _ in await audit_actions(core, case.ref)]
    assert actions == [
        "request",
        "assign",
        "acknowledge",
        "book",
        "record_outcome",
        "add_follow_up",
        "close",
        "reopen",
    ]


async def test_only_distributors_assign_and_refusal_is_audited(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    with pytest.raises(Refusal) as exc:
        await core.cases.assign("linnea.fors", case.ref, ["sofia.grahn"])
    assert exc.value.code == "not_distributor"
    text = core.renderer.refusal(exc.value)
    assert "Beroendemottagningen Åstad" in text and case.ref in text
    assert ("linnea.fors", "assign", "refused") in await audit_actions(core, case.ref)
    # the deputy may distribute
    case = await core.cases.assign("gustav.lund", case.ref, ["linnea.fors"])
    assert case.assignees == ["linnea.fors"]


async def test_assign_rules(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    with pytest.raises(Refusal, match="too_many_assignees"):
        await core.cases.assign(
            "fatima.ali", case.ref, ["linnea.fors", "sofia.grahn", "gustav.lund", "fatima.ali", "x"]
        )
    with pytest.raises(Refusal, match="assignee_wrong_unit"):
        await core.cases.assign("fatima.ali", case.ref, ["maria.sand"])
    with pytest.raises(Refusal, match="no_assignee"):
        await core.cases.assign("fatima.ali", case.ref, [])
    case = await core.cases.assign("fatima.ali", case.ref, [], other="Mottagningen för unga vuxna")
    assert case.other_assignee == "Mottagningen för unga vuxna"
    assert case.responsible() == ["fatima.ali"]  # the distributor answers for an "annan" assignment


async def test_only_assignees_acknowledge(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    with pytest.raises(Refusal) as exc:
        await core.cases.acknowledge("sofia.grahn", case.ref)
    assert exc.value.code == "not_assignee"
    assert "kvittera" in core.renderer.refusal(exc.value)


async def test_concurrent_assigns_one_wins_other_is_told_who(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    results = await asyncio.gather(
        core.cases.assign("fatima.ali", case.ref, ["linnea.fors"]),
        core.cases.assign("gustav.lund", case.ref, ["sofia.grahn"]),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, Refusal)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].code == "already_assigned"
    winner = wins[0].assigned_by
    assert core.directory.name(winner) in core.renderer.refusal(losses[0])


async def test_meeting_needs_two_units_and_no_show_allows_rebooking(core: Core, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    with pytest.raises(FieldError) as exc:
        await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["beroende"])
    assert "enheter" in exc.value.errors
    assert "minst tre aktörer" in core.renderer.field_errors(exc.value)["enheter"]

    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["beroende", "soc-norr"])
    case = await core.cases.no_show("linnea.fors", case.ref)
    assert case.state is CaseState.ACKNOWLEDGED and case.no_shows == 1 and case.meeting_at is None
    case = await core.cases.book("linnea.fors", case.ref, local("2026-12-03T10:00"), "Rum 3", ["beroende", "soc-norr"])
    assert case.state is CaseState.MEETING_BOOKED
    await core.tick()
    assert [s.template for s in sender.to("maria.sand") if s.template.startswith("meeting")] == [
        "meeting_booked",
        "meeting_no_show",
        "meeting_booked",
    ]


async def test_outcome_only_after_the_meeting(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["beroende", "soc-norr"])
    with pytest.raises(Refusal, match="meeting_not_yet"):
        await core.cases.record_outcome("linnea.fors", case.ref, "sip", evaluation_done=False)
    clock.set(local("2026-11-30T15:00"))
    with pytest.raises(FieldError):
        await core.cases.record_outcome("linnea.fors", case.ref, "kanske", evaluation_done=False)
    case = await core.cases.record_outcome("linnea.fors", case.ref, "sip", evaluation_done=False)
    assert case.state is CaseState.MEETING_HELD


@pytest.mark.parametrize(
    ("case_type", "code", "phrase"),
    [("pagaende", "sip_precedence", "SIP"), ("svu", "svu_routine", "utskrivning")],
)
async def test_sip_precedence_files_nothing(core: Core, case_type: str, code: str, phrase: str) -> None:
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(case_type=case_type))
    assert exc.value.errors["typ"][0] == code
    assert phrase in core.renderer.field_errors(exc.value)["typ"]
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM cases") == 0


@pytest.mark.parametrize("field", ["brief", "contact"])
async def test_identity_numbers_are_rejected_and_nothing_saved(core: Core, field: str) -> None:
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(**{field: f"Kontakt ok, pnr {VALID_PNR}"}))
    key = {"brief": "kort", "contact": "kontakt"}[field]
    message = core.renderer.field_errors(exc.value)[key]
    assert "personnummer" in message and "Inget har sparats" in message
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM cases") == 0
        assert await tx.scalar("SELECT COUNT(*) FROM outbox") == 0


async def test_request_needs_consent_brief_and_a_known_other_unit(core: Core) -> None:
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(consent_confirmed=False, brief="  ", target_unit="soc-norr"))
    assert set(exc.value.errors) == {"samtycke", "kort", "enhet"}
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(target_unit="finns-inte"))
    assert exc.value.errors["enhet"][0] == "unknown_unit"


async def test_consent_defaults_and_scope(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    assert case.consent_valid_until == date(2026, 11, 23) + timedelta(days=90)
    assert case.consent_scope == ["soc-norr", "beroende"]
    case = await core.cases.request(
        "maria.sand", form(consent_scope=["psykiatri"], consent_valid_until=date(2027, 1, 31))
    )
    assert case.consent_scope == ["psykiatri", "soc-norr", "beroende"]
    assert case.consent_valid_until == date(2027, 1, 31)


async def test_consent_withdrawal_closes_erases_and_cancels(core: Core, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    # a message still pending in the outbox when consent is withdrawn must never be delivered
    case = await core.cases.withdraw_consent("maria.sand", case.ref)
    assert case.state is CaseState.CLOSED and case.closed_reason is CloseReason.CONSENT_WITHDRAWN
    assert case.brief is None and case.contact is None
    await core.tick()
    assert not sender.to("linnea.fors", "assigned_to_you")
    [notice] = sender.to("linnea.fors", "consent_withdrawn")
    assert "påminnelser har stoppats" in notice.text
    with pytest.raises(Refusal, match="reopen_after_withdrawal"):
        await core.cases.reopen("maria.sand", case.ref)
    # no stored message text of the case can quote the erased brief any more
    async with core.db.transaction() as tx:
        texts = [f"{r['text']} {r['message'] or ''}"  # the stored message too: a described row keeps no text
                 for r in await tx.fetchall("SELECT text, message FROM outbox WHERE case_id = ?", (case.id,))]
        drafts = await tx.fetchall("SELECT * FROM brist_drafts")
    assert texts and not any("alkohol" in t for t in texts)
    assert not any("alkohol" in str(d) for d in drafts)


async def test_state_survives_a_restart(make_core, sender: RecordingSender) -> None:  # type: ignore[no-untyped-def]
    first = await make_core()
    case = await first.cases.request("maria.sand", form())
    await first.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await first.close()
    second = await make_core()
    again = await second.cases.get(case.ref)
    assert again.state is CaseState.ASSIGNED and again.assignees == ["linnea.fors"]
    nxt = await second.cases.request("omar.haddad", form())
    assert nxt.ref == "GFI-2026-0002"


async def test_references_are_sequential_per_year(core: Core, clock: FrozenClock) -> None:
    refs = [(await core.cases.request("maria.sand", form())).ref for _ in range(3)]
    assert refs == ["GFI-2026-0001", "GFI-2026-0002", "GFI-2026-0003"]
    clock.set(local("2027-01-04T09:00"))
    assert (await core.cases.request("maria.sand", form())).ref == "GFI-2027-0001"


async def test_unknown_reference_and_person(core: Core) -> None:
    with pytest.raises(Refusal, match="case_not_found"):
        await core.cases.acknowledge("linnea.fors", "GFI-2026-9999")
    with pytest.raises(Refusal, match="unknown_person"):
        await core.cases.request("nobody", form())


async def test_audit_log_is_append_only(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    with pytest.raises(Exception, match="append-only"):
        async with core.db.transaction() as tx:
            await tx.execute("UPDATE audit SET actor_id = 'x' WHERE case_ref = ?", (case.ref,))
    with pytest.raises(Exception, match="append-only"):
        async with core.db.transaction() as tx:
            await tx.execute("DELETE FROM audit")


async def test_withdrawal_erases_the_text_of_messages_already_sent(core: Core, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.tick()
    [delivered] = sender.to("linnea.fors", "assigned_to_you")
    assert "alkohol" in delivered.text  # the brief was quoted to the assignee
    await core.cases.withdraw_consent("linnea.fors", case.ref)
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT status, text, message, blocks FROM outbox WHERE case_id = ? AND template = ?",
                                 (case.id, "assigned_to_you"))
    assert [(r["status"], r["text"], r["message"], r["blocks"]) for r in rows] == [("sent", "", None, None)]
