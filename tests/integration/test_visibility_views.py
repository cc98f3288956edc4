"""Need to know across every view (issue #12): each role of the example directory walks the console views,
the Slack App Home and the messages at each stage of a case; the free text shows only to those who may
see the whole case, a reference only to those who may see at least its summary, and every display of
free text is in the read log, none of a refused view."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from bot import readlog
from bot.cases.visibility import Level
from bot.channels.console import ConsoleSession
from bot.channels.slack.home import free_text_refs, home_view, load_home
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError
from tests.conftest import RecordingSender, local
from tests.timekit import advance, form

F, S, N = Level.FULL, Level.SUMMARY, Level.NONE
BRIEF, CONTACT, PLACE, WHAT = "SENTINEL-KORT", "SENTINEL-KONTAKT", "SENTINEL-PLATS", "SENTINEL-UPPF"
FREE = (BRIEF, CONTACT, PLACE, WHAT)

# Each role of the example directory and what it may see of the case at each stage:
# requested (waiting for distribution), escalated (the ladder alerted helena.ros, then jonas.sjo),
# booked (assigned to linnea.fors, meeting booked), erased (consent withdrawn).
ROLES: dict[str, tuple[str, dict[str, Level]]] = {
    "maria.sand": ("requester", {"requested": F, "escalated": F, "booked": F, "erased": F}),
    "linnea.fors": ("assignee", {"requested": N, "escalated": N, "booked": F, "erased": F}),
    # she assigned it: she works on it while it is open (issue #18 item 7), not once the consent is withdrawn
    "fatima.ali": ("distributor", {"requested": F, "escalated": F, "booked": F, "erased": N}),
    "gustav.lund": ("deputy", {"requested": F, "escalated": F, "booked": N, "erased": N}),
    "omar.haddad": ("colleague of the requester", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "petra.lund": ("other social services unit", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "tove.nyman": ("vårdcentral kurator", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "yusuf.kaya": ("outside the consent", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "helena.ros": ("ladder rung", {"requested": N, "escalated": S, "booked": S, "erased": S}),
    "carina.berg": ("the kommun's ladder rung", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "jonas.sjo": ("coordinator, alerted", {"requested": N, "escalated": S, "booked": S, "erased": S}),
    "sara.holm": ("coordinator of the kommun", {"requested": N, "escalated": N, "booked": N, "erased": N}),
    "it.admin": ("admin", {"requested": N, "escalated": N, "booked": N, "erased": N}),
}


class Walk:
    """Runs the views of one person and checks them against what the person may see."""

    def __init__(self, core: Core, clock: FrozenClock, ref: str) -> None:
        self.core, self.clock, self.ref = core, clock, ref

    async def console(self, person: str, line: str) -> str:
        out = io.StringIO()
        session = ConsoleSession(self.core, person, clock=self.clock, out=out)  # type: ignore[arg-type]
        await session.handle(line)
        return out.getvalue()  # only what the session says: messages go to the recording sender

    async def reads(self, person: str) -> list[tuple[str, str, str]]:
        async with self.core.db.transaction() as tx:
            rows = await tx.fetchall("SELECT case_ref, view, channel FROM case_reads WHERE person_id = ?", (person,))
        return [(r["case_ref"], r["view"], r["channel"]) for r in rows]

    async def check(self, person: str, may: Level, *, erased: bool = False) -> None:
        role = f"{person} ({ROLES[person][0]})"
        not_found = (await self.console(person, "/visa GFI-2026-9999")).replace("GFI-2026-9999", self.ref)

        # /visa: the whole case, a summary, or the very answer an unknown reference gets
        before = await self.reads(person)
        shown = await self.console(person, f"/visa {self.ref}")
        after = await self.reads(person)
        if may is F:
            assert self.ref in shown and "Historik" in shown, role
            assert (BRIEF in shown) is not erased, role
            assert ("Uppgifterna i ärendet är raderade" in shown) is erased, role
            assert "None" not in shown, role
            assert after == before + ([] if erased else [(self.ref, "visa", "console")]), role
        elif may is S:
            assert self.ref in shown and "sammanfattning utan fritext" in shown, role
            assert not any(f in shown for f in FREE), role
            assert after == before, role
        else:
            assert shown == not_found, role
            assert after == before, role

        # the journal record: only for those with the whole case, logged; a summary viewer is told why
        before = await self.reads(person)
        journal = await self.console(person, f"/journal {self.ref}")
        after = await self.reads(person)
        if may is F:
            assert f"journalunderlag för {self.ref}" in journal and "None" not in journal, role
            assert BRIEF not in journal and CONTACT not in journal, role  # the journal system has those
            assert after == [*before, (self.ref, "journal", "console")], role
        elif may is S:
            assert "ges bara till dem som har del i ärendet" in journal and BRIEF not in journal, role
            assert after == before, role
        else:
            assert journal.replace("/journal", "/visa") == not_found.replace("/journal", "/visa"), role
            assert after == before, role

        # every other view: free text only with FULL, the reference only with at least SUMMARY
        for line in ("/kö", "/mina", "/eskaleringar", "/leveranser"):
            before = await self.reads(person)
            text = await self.console(person, line)
            self.assert_within(text, may, f"{role} {line}")
            logged = (await self.reads(person))[len(before):]
            assert bool(logged) == any(f in text for f in FREE), f"{role} {line}"
        view = home_view(self.core.renderer, await load_home(self.core, person))
        self.assert_within(str(view), may, f"{role} Home")
        assert set(free_text_refs(view)) <= ({self.ref} if may is F else set()), role

    def assert_within(self, text: str, may: Level, where: str) -> None:
        if may is not F:
            assert not any(f in text for f in FREE), where
        if may is N:
            assert self.ref not in text, where


@pytest.fixture
async def walk(core: Core, clock: FrozenClock) -> Walk:
    case = await core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    return Walk(core, clock, case.ref)


async def walk_all(walk: Walk, stage: str) -> None:
    for person, (_, levels) in ROLES.items():
        await walk.check(person, levels[stage], erased=stage == "erased")


async def test_every_role_sees_what_it_may_at_every_stage(
    walk: Walk, core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.tick()
    await walk_all(walk, "requested")

    # nobody distributes: the ladder alerts the verksamhetschef (Tuesday) and the coordinator (Wednesday)
    await advance(core, clock, sender, local("2026-11-25T13:30"), step=timedelta(hours=1))
    assert {s.recipient for s in sender.sent if s.template == "escalation"} == {"helena.ros", "jonas.sjo"}
    await walk_all(walk, "escalated")

    await core.cases.assign("fatima.ali", walk.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", walk.ref)
    await core.cases.book("linnea.fors", walk.ref, local("2026-12-01T13:00"), PLACE, ["soc-norr", "beroende"])
    await core.tick()
    await walk_all(walk, "booked")

    await core.cases.withdraw_consent("maria.sand", walk.ref)
    await core.tick()
    await walk_all(walk, "erased")

    # messages: free text went only to people who could see the whole case when it was sent, and each
    # delivery showing free text is in the read log (message template as the view)
    full_when_sent = {"maria.sand", "linnea.fors", "fatima.ali", "gustav.lund"}
    async with core.db.transaction() as tx:
        reads = {(r["person_id"], r["view"]) for r in await tx.fetchall(
            "SELECT person_id, view FROM case_reads WHERE channel != 'console'")}
    for sent in sender.sent:
        if any(f in sent.text for f in FREE):
            assert sent.recipient in full_when_sent, sent
            assert (sent.recipient, sent.template) in reads, sent
    assert ("linnea.fors", "assigned_to_you") in reads and ("maria.sand", "meeting_booked") in reads


ESCALATION_TEMPLATES = ("escalation", "escalation_resolved", "ladder_nudge", "delivery_failed")


async def test_no_free_text_in_escalations_reminders_or_nudges(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    await advance(core, clock, sender, local("2026-11-25T13:30"), step=timedelta(hours=1))
    [item] = await core.ladder.open_escalations("jonas.sjo")
    await core.ladder.nudge("jonas.sjo", item.id)
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), PLACE, ["soc-norr", "beroende"])
    await advance(core, clock, sender, local("2026-12-03T13:30"), step=timedelta(hours=1))
    templates = {s.template for s in sender.sent}
    assert {"escalation", "escalation_resolved", "ladder_nudge", "reminder_prepare"} <= templates
    for sent in sender.sent:
        if sent.template in ESCALATION_TEMPLATES or sent.template.startswith("reminder_"):
            assert not any(f in sent.text for f in FREE), sent
    async with core.db.transaction() as tx:
        blocks = await tx.fetchall("SELECT template, blocks FROM outbox WHERE blocks IS NOT NULL")
    for row in blocks:
        if row["template"] in ESCALATION_TEMPLATES or row["template"].startswith("reminder_"):
            assert not any(f in row["blocks"] for f in FREE), row["template"]


async def test_read_log_lists_for_coordinators_and_admins(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form(brief=BRIEF))
    walk = Walk(core, clock, case.ref)
    await walk.console("fatima.ali", f"/visa {case.ref}")
    await walk.console("it.admin", f"/visa {case.ref}")  # refused: not logged

    # each principal's coordinator reviews its own staff's reads; the other principal's are counted, not listed
    jonas = await walk.console("jonas.sjo", f"/läsloggar {case.ref}")  # the region's coordinator
    assert "Läsloggar för GFI-2026-0001, personal hos din huvudman (1):" in jonas
    assert "Fatima Ali (fatima.ali)  /visa, konsolen" in jonas
    assert "it.admin" not in jonas and "annan huvudman" not in jonas
    sara = await walk.console("sara.holm", f"/lasloggar {case.ref}")  # the kommun's coordinator: its case too
    assert "Ingen hos din huvudman har visats fritexten i GFI-2026-0001." in sara
    assert "Fatima" not in sara and "1 läsning av personal hos en annan huvudman" in sara

    await walk.console("maria.sand", f"/visa {case.ref}")  # the requester, the kommun's staff
    await walk.console("maria.sand", f"/visa {case.ref}")
    sara = await walk.console("sara.holm", f"/läsloggar {case.ref}")
    assert "personal hos din huvudman (2):" in sara and sara.count("Maria Sand (maria.sand)") == 2
    assert "Fatima" not in sara and "1 läsning av personal hos en annan huvudman" in sara
    jonas = await walk.console("jonas.sjo", f"/läsloggar {case.ref}")
    assert "Maria" not in jonas and "2 läsningar av personal hos en annan huvudman" in jonas
    # not a coordinator: refused; a coordinator of neither principal would get the unknown-case answer
    assert "visas för samordnare" in await walk.console("maria.sand", f"/läsloggar {case.ref}")
    assert "Hittar inget ärende" in await walk.console("jonas.sjo", "/läsloggar GFI-2026-9999")

    admin = await walk.console("it.admin", "/läsloggar person=fatima.ali från=2026-11-23 till=2026-11-23")
    assert "Läsloggar för Fatima Ali (fatima.ali) mån 23 nov 2026–mån 23 nov 2026 (1):" in admin
    assert "GFI-2026-0001  /visa, konsolen" in admin
    ascii_ = await walk.console("it.admin", "/lasloggar person=fatima.ali fran=2026-11-24 till=2026-11-30")
    assert "har inte visats fritexten i något ärende" in ascii_
    assert "visas för systemförvaltare" in await walk.console(
        "jonas.sjo", "/läsloggar person=fatima.ali från=2026-11-23 till=2026-11-23")
    assert "Användning: /läsloggar" in await walk.console("it.admin", "/läsloggar person=fatima.ali")


async def test_the_read_log_is_append_only(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())

    async with core.db.transaction() as tx:
        await readlog.record(tx, at=core.clock.now(), person_id="maria.sand", refs=[case.ref], view="visa",
                             channel="console")
    for sql in ("UPDATE case_reads SET person_id = 'x'", "DELETE FROM case_reads"):
        with pytest.raises(Exception, match="append-only"):
            async with core.db.transaction() as tx:
                await tx.execute(sql)
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM case_reads") == 1


async def test_free_text_is_withheld_from_someone_outside_the_consent(core: Core, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form(brief=BRIEF))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-24T13:00"), PLACE, ["soc-norr", "beroende"])
    await core.tick()
    core.clock.set(local("2026-11-24T15:00"))  # type: ignore[attr-defined]
    await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    await core.cases.add_follow_up("linnea.fors", case.ref, "omar.haddad", local("2026-12-01T00:00").date(), WHAT)
    # psykiatri is not covered by the consent: the follow-up is refused, not silently withheld
    with pytest.raises(FieldError):
        await core.cases.add_follow_up("linnea.fors", case.ref, "yusuf.kaya", local("2026-12-01T00:00").date(), WHAT)
    await core.tick()
    # the region gives the kommun's socialsekreterare a task: a proposal, which names what it is
    assert [s.text for s in sender.to("omar.haddad", "follow_up_proposed") if WHAT in s.text]
    assert not sender.to("yusuf.kaya")  # nothing about the case



async def test_refused_actions_do_not_confirm_that_the_case_exists(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    walk = Walk(core, clock, case.ref)
    unknown = (await walk.console("it.admin", "/kvittera GFI-2026-9999")).replace("GFI-2026-9999", case.ref)
    for person, line in (("it.admin", f"/kvittera {case.ref}"), ("tove.nyman", f"/avsluta {case.ref} genomford"),
                         ("petra.lund", f"/fördela {case.ref} petra.lund")):
        assert (await walk.console(person, line)).replace(person, "it.admin") == unknown, person
    # someone who may see the case is told why the action is refused
    assert "Det går inte att kvittera" in await walk.console("fatima.ali", f"/kvittera {case.ref}")
