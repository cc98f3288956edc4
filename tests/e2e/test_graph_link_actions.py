"""Issue #20 item 8, the rest of "every action their role has": an e-mail person waits a case (and extends the
wait), holds the meeting now, reopens, renews or withdraws the consent, disputes and settles, reassigns from
the ladder and reads the journal record, from links over real HTTP, with the same rules and field checks as the
other channels. GET changes nothing and never shows free text; a refused form comes back (400) with what was
typed and the error under the field, and does not use the link up; a page offers only what the person may do
now; the e-mails offer these links where Slack would show the button.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import aiohttp

from bot import audit
from bot.brister.models import BristForm
from bot.cases import visibility
from bot.cases.models import Case, CaseState, CloseReason
from bot.cases.visibility import Level
from bot.channels.console import ConsoleSession
from bot.channels.graph.mail import render_mail
from bot.channels.graph.templates import GraphTemplates
from bot.messages.model import Message
from bot.store import reads as reads_store
from tests.conftest import local
from tests.e2e.test_graph import BRIEF, Running, running  # noqa: F401  (the fixture)
from tests.e2e.test_graph_link_forms import links_in
from tests.timekit import advance, form, outbox_rows


async def acknowledged(r: Running, distributor: str, assignees: list[str], **fields: object) -> Case:
    """maria.sand's request (the brief BRIEF), assigned by `distributor` and acknowledged by the last assignee."""
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF, **fields))
    await r.core.cases.assign(distributor, case.ref, assignees)
    await r.core.cases.acknowledge(assignees[-1], case.ref)
    return case


async def test_waiting_extending_holding_now_and_reopening_by_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case = await acknowledged(r, "fatima.ali", ["sofia.grahn", "linnea.fors"])
    async with aiohttp.ClientSession() as http:
        wait = signer.url("sofia.grahn", "wait", case.ref, None, r.clock.now())
        async with http.get(wait) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'name="till"' in page and 'name="vantar_skal"' in page
            assert "eskaleras ingenting" in page and BRIEF not in page and "<script" not in page
        async with http.post(wait, data={"vantar_skal": "Den enskilde vill vänta"}) as resp:  # no date
            page = await resp.text()
            assert resp.status == 400 and 'id="fel-till"' in page and 'value="Den enskilde vill vänta"' in page
        assert (await r.core.cases.get(case.ref)).state is CaseState.ACKNOWLEDGED  # refused: nothing changed
        async with http.post(wait, data={"till": "2026-12-14", "vantar_skal": "Den enskilde vill vänta"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "vilar." in page
        waiting = await r.core.cases.get(case.ref)
        assert waiting.state is CaseState.WAITING and waiting.waiting_until == date(2026, 12, 14)
        steps = links_in(page)
        assert {"Återuppta", "Sätt som vilande", "Mötet hålls nu", "Avsluta"} <= set(steps)

        async with http.get(steps["Sätt som vilande"]) as resp:  # extending: the page says it replaces the date
            page = await resp.text()
            assert resp.status == 200 and "vilar redan till" in page
        async with http.post(steps["Sätt som vilande"], data={"till": "2026-12-21", "vantar_skal": "Sjukhusvistelse"}
                             ) as resp:
            assert resp.status == 200 and "förlängd" in await resp.text()
        assert (await r.core.cases.get(case.ref)).waiting_until == date(2026, 12, 21)

        # the individual turns up: the meeting is held now, with the units ticked
        hold = signer.url("sofia.grahn", "hold_now", case.ref, None, r.clock.now())
        async with http.post(hold, data={}) as resp:
            assert resp.status == 400 and 'id="fel-enheter"' in await resp.text()
        async with http.post(hold, data={"enheter": ["soc-norr", "beroende"]}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "hållet nu" in page and "Registrera utfall" in links_in(page)
        held = await r.core.cases.get(case.ref)
        assert held.held_now and held.meeting_units == ["soc-norr", "beroende"]
        async with http.get(signer.url("sofia.grahn", "hold_now", case.ref, None, r.clock.now())) as resp:
            page = await resp.text()  # held already: no form, the reason
            assert resp.status == 409 and "<form" not in page

        await r.core.cases.record_outcome("sofia.grahn", case.ref, "kartlaggning", False)
        await r.core.cases.close("sofia.grahn", case.ref, "klart")
        reopen = signer.url("sofia.grahn", "reopen", case.ref, None, r.clock.now())
        async with http.get(reopen) as resp:
            page = await resp.text()
            assert resp.status == 200 and "öppnas igen" in page and "<title>Återöppna – " in page
        assert (await r.core.cases.get(case.ref)).state is CaseState.CLOSED  # GET changes nothing
        async with http.post(reopen) as resp:
            page = await resp.text()
            assert resp.status == 200 and "är återöppnat" in page
        assert (await r.core.cases.get(case.ref)).state is not CaseState.CLOSED
        async with http.get(signer.url("jonas.sjo", "reopen", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 409 and "<form" not in await resp.text()  # outside the case


async def test_the_emails_offer_the_links_where_slack_shows_the_buttons(running: Running) -> None:  # noqa: F811
    r = running
    case = await acknowledged(r, "fatima.ali", ["sofia.grahn", "linnea.fors"])
    await r.core.cases.wait("linnea.fors", case.ref, date(2026, 12, 14), "Den enskilde vill vänta")
    await r.tick()
    sent = [m for m in r.mails_to("sofia.grahn@rsv.example.se") if "vilar" in m["body"]["content"]]
    assert sent, [m["subject"] for m in r.mails_to("sofia.grahn@rsv.example.se")]
    html = sent[-1]["body"]["content"]
    labels = {label.strip() for label in re.findall(r'<a[^>]+href="[^"]+/a/[^"]+"[^>]*>([^<]+)</a>', html)}
    assert {"Återuppta", "Sätt som vilande", "Mötet hålls nu", "Avsluta", "Visa ärendet"} <= labels
    assert "Den enskilde vill vänta" not in html  # the reason is free text: not in an e-mail


async def test_the_consent_renewed_withdrawn_for_one_unit_and_withdrawn_by_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case = await r.core.cases.request("maria.sand", form(consent_scope=["psykiatri"], brief=BRIEF))
    await r.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("sofia.grahn", "renew_consent", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 409 and "<form" not in await resp.text()  # the requester's side records it
        renew = signer.url("maria.sand", "renew_consent", case.ref, None, r.clock.now())
        async with http.get(renew) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'name="giltigt"' in page and 'name="form"' in page
            assert '<option value="maria.sand" selected>' in page  # who obtained it: herself, to change
        async with http.post(renew, data={"giltigt": "2027-03-31", "inhamtat": "maria.sand"}) as resp:
            page = await resp.text()  # how it was given is required
            assert resp.status == 400 and 'id="fel-form"' in page and 'value="2027-03-31"' in page
        async with http.post(renew, data={"giltigt": "2027-03-31", "form": "skriftligt", "inhamtat": "maria.sand",
                                          "omfattar": "vc-centrum"}) as resp:
            assert resp.status == 200 and "är förnyat" in await resp.text()
        renewed = await r.core.cases.get(case.ref)
        assert renewed.consent_valid_until == date(2027, 3, 31) and "vc-centrum" in renewed.consent_scope

        # more units than the two: withdrawing is a form (whole, or one unit)
        partly = signer.url("maria.sand", "withdraw_consent_form", case.ref, None, r.clock.now())
        async with http.get(partly) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'value="psykiatri"' in page and "går inte att ångra" in page
        async with http.post(partly, data={"aterkalla": "psykiatri"}) as resp:
            assert resp.status == 200 and "fortsätter med de andra" in await resp.text()
        after = await r.core.cases.get(case.ref)
        assert after.is_open and "psykiatri" in after.consent_withdrawn

        whole = signer.url("sofia.grahn", "withdraw_consent", case.ref, None, r.clock.now())
        async with http.get(whole) as resp:
            page = await resp.text()
            assert resp.status == 200 and "fritexten raderas" in page and "går inte att ångra" in page
        assert (await r.core.cases.get(case.ref)).is_open
        async with http.post(whole) as resp:
            assert resp.status == 200 and "samtycket är återkallat" in await resp.text()
        closed = await r.core.cases.get(case.ref)
        assert closed.closed_reason is CloseReason.CONSENT_WITHDRAWN and closed.brief in ("", None)


async def test_a_dispute_opened_proposed_and_confirmed_by_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case = await acknowledged(r, "ingrid.vik", ["yusuf.kaya"], target_unit="psykiatri")
    async with aiohttp.ClientSession() as http:
        dispute = signer.url("yusuf.kaya", "dispute", case.ref, None, r.clock.now())
        async with http.get(dispute) as resp:
            page = await resp.text()
            assert resp.status == 200 and '<textarea id="f-tvist_skal"' in page and "inte avslutat" in page
        async with http.post(dispute, data={"tvist_skal": ""}) as resp:
            assert resp.status == 400 and 'id="fel-tvist_skal"' in await resp.text()
        async with http.post(dispute, data={"tvist_skal": "Missbruket är det primära"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "inte är er verksamhets ärende" in page
        assert (await r.core.cases.get(case.ref)).disputed
        async with http.get(signer.url("ingrid.vik", "dispute", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 409 and "redan bestridet" in await resp.text()  # disputed once

        # the kommun's line manager proposes; the region's confirms after reading the proposal
        propose = signer.url("carina.berg", "settle_dispute", case.ref, None, r.clock.now())
        async with http.post(propose, data={"enig": "Psykiatrin behåller ärendet"}) as resp:
            assert resp.status == 200 and "Tvisten är avgjord när den andra sidan" in await resp.text()
        assert (await r.core.cases.get(case.ref)).disputed
        async with http.get(signer.url("carina.berg", "confirm_agreement", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 409 and "på er sida" in await resp.text()  # not her own proposal
        confirm = signer.url("helena.ros", "confirm_agreement", case.ref, None, r.clock.now())
        async with http.get(confirm) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Carina Berg" in page and "Psykiatrin behåller" not in page
            assert "Visa förslaget" in page
        async with r.core.db.read() as tx:
            reads_before = len(await reads_store.for_case(tx, case.ref))
        async with http.post(confirm, data={"visa": "1"}) as resp:  # the proposal, shown (and logged) on a POST
            page = await resp.text()
            assert resp.status == 200 and "Psykiatrin behåller ärendet" in page
        assert (await r.core.cases.get(case.ref)).disputed  # showing it confirmed nothing
        async with r.core.db.read() as tx:
            assert len(await reads_store.for_case(tx, case.ref)) == reads_before + 1
        async with http.post(confirm) as resp:
            assert resp.status == 200 and "är avgjord" in await resp.text()
        assert not (await r.core.cases.get(case.ref)).disputed
        async with http.get(signer.url("carina.berg", "settle_dispute", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 409 and "ingen pågående tvist" in await resp.text()


async def test_reassigning_from_the_ladder_and_the_journal_record_by_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF))
    await r.core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await advance(r.core, r.clock, r.slack, local("2026-11-25T14:00"))  # not acknowledged: the ladder climbs
    [item] = [i for i in await r.core.ladder.open_escalations("helena.ros") if i.case_ref == case.ref]
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("maria.sand", "reassign", case.ref, item.id, r.clock.now())) as resp:
            assert resp.status in (403, 404, 409) and "<form" not in await resp.text()  # not hers to answer
        reassign = signer.url("helena.ros", "reassign", case.ref, item.id, r.clock.now())
        async with http.get(reassign) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'value="sofia.grahn"' in page and "<title>Omfördela – " in page
        async with http.post(reassign, data={"personer": "sofia.grahn"}) as resp:
            assert resp.status == 200 and "är omfördelat" in await resp.text()
        assert (await r.core.cases.get(case.ref)).assignees == ["sofia.grahn"]

        await r.core.cases.acknowledge("sofia.grahn", case.ref)
        await r.core.cases.hold_now("sofia.grahn", case.ref, ["soc-norr", "beroende"])
        journal = signer.url("sofia.grahn", "journal", case.ref, None, r.clock.now())
        async with http.get(journal) as resp:  # a mail scanner's GET: nothing shown, nothing logged
            page = await resp.text()
            assert resp.status == 200 and BRIEF not in page and "Visa journalunderlaget" in page
        r.clock.advance(timedelta(hours=1))
        await r.core.cases.record_outcome("sofia.grahn", case.ref, "kartlaggning", False)
        async with http.post(journal) as resp:
            page = await resp.text()
            assert resp.status == 200 and case.ref in page and "<title>Journalunderlag – " in page
        async with r.core.db.read() as tx:
            assert any(row["view"] == "journal" and row["channel"] == "email"
                       for row in await reads_store.for_case(tx, case.ref))
        async with http.post(signer.url("jonas.sjo", "journal", case.ref, None, r.clock.now())) as resp:
            assert resp.status == 404 and BRIEF not in await resp.text()  # outside the case: as for no case


async def disputed_past_agreement(r: Running) -> tuple[Case, int]:
    """A case the receiving unit disputes, with no agreement by the next day: the coordinators are alerted. Returns
    the case and the ladder's dispute item."""
    case = await r.core.cases.request("maria.sand", form(target_unit="psykiatri"))
    await r.core.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])
    await r.core.cases.acknowledge("yusuf.kaya", case.ref)
    await r.core.disputes.dispute("yusuf.kaya", case.ref, "Missbruket är det primära")
    await advance(r.core, r.clock, r.slack, local("2026-11-24T10:30"))
    item = next(h["id"] for h in await r.core.ladder.history(case.ref) if h["kind"] == "dispute")
    return case, int(item)


async def test_a_question_taken_to_the_samverkansniva_by_link(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case, item = await disputed_past_agreement(r)
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("helena.ros", "to_samverkan", case.ref, item, r.clock.now())) as resp:
            assert resp.status == 409 and "Bara samordnare" in await resp.text()  # a line manager: no button
        taken = signer.url("sara.holm", "to_samverkan", case.ref, item, r.clock.now())
        async with http.get(taken) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Ingen fördelas ärendet" in page
        assert await taken_up(r, case.ref) == []  # GET changes nothing
        async with http.post(taken) as resp:
            assert resp.status == 200 and "är tagen till samverkansnivå" in await resp.text()
        assert len(await taken_up(r, case.ref)) == 1
        assert len(await r.core.brister.open_drafts("sara.holm")) == 1  # the draft is hers to complete


async def taken_up(r: Running, ref: str) -> list[dict[str, object]]:
    async with r.core.db.read() as tx:
        return [h for h in await audit.for_case(tx, ref) if h["action"] == "to_samverkan" and h["result"] == "ok"]


async def test_a_brist_report_worked_from_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    report = await r.core.brister.file("maria.sand", BristForm(units=["soc-norr", "beroende"], causes=["sip"],
                                                               what="SIP-mötet blev aldrig av."))
    now = r.clock.now()
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("maria.sand", "brist_measures", report.ref, None, now)) as resp:
            assert resp.status == 409 and "<form" not in await resp.text()  # the author reads, the units act
        measures = signer.url("fatima.ali", "brist_measures", report.ref, None, now)
        async with http.get(measures) as resp:
            page = await resp.text()
            assert resp.status == 200 and '<textarea id="f-atgarder"' in page and "SIP-mötet" not in page
        async with http.post(measures, data={"atgarder": ""}) as resp:
            assert resp.status == 400 and 'id="fel-atgarder"' in await resp.text()
        async with http.post(measures, data={"atgarder": "Rutin för kallelser ses över"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "åtgärderna är sparade" in page
        steps = links_in(page)
        assert {"Registrera dialogen", "Visa rapporten"} <= set(steps) and "Stäng rapporten" not in steps
        async with http.post(steps["Registrera dialogen"], data={"dialog": "Parterna har träffats"}) as resp:
            assert resp.status == 200 and "dialogen är sparat" in await resp.text()
        async with http.post(steps["Visa rapporten"]) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Rutin för kallelser ses över" in page and "Parterna har träffats" in page

        close = signer.url("sara.holm", "brist_close", report.ref, None, now)
        async with http.get(close) as resp:
            page = await resp.text()
            assert resp.status == 200 and "stängs" in page and "<title>Stäng rapporten – " in page
        async with http.post(close) as resp:
            assert resp.status == 200 and "är stängd" in await resp.text()
        async with http.get(signer.url("sara.holm", "brist_close", report.ref, None, now)) as resp:
            assert resp.status == 409  # closed already: no button
        pages = []
        for ref in (report.ref, "BRIST-2026-9999"):  # someone it does not concern: as for no such report
            async with http.post(signer.url("petra.lund", "brist_open_report", ref, None, now)) as resp:
                pages.append((resp.status, (await resp.text()).replace(ref, "X")))
        assert pages[0] == pages[1] and pages[0][0] == 404


async def test_the_case_history_reads_as_events_and_leaves_out_the_links_own_rows(running: Running) -> None:  # noqa: F811
    """The link page lists the history as events (not the console's columns); neither it nor the console's /visa
    repeats a link's own audit rows (the action's row says it; a refused link stays in the audit log only)."""
    r = running
    signer = r.signer
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF))
    await r.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    ack = signer.url("sofia.grahn", "acknowledge", case.ref, None, r.clock.now())
    async with aiohttp.ClientSession() as http:
        async with http.post(ack) as resp:
            assert resp.status == 200
        async with http.post(ack) as resp:  # used: a refused link, audited
            assert resp.status == 410
        async with http.post(signer.url("sofia.grahn", "open", case.ref, None, r.clock.now())) as resp:
            page = await resp.text()
            assert resp.status == 200
    items = re.findall(r"<li><span class=\"when\">([^<]+)</span> ([^<]+)</li>", page)
    assert [what for _, what in items] == ["Maria Sand: Förfrågan registrerad", "Fatima Ali: Fördelat",
                                           "Sofia Grahn: Kvitterat"]
    assert "Historik:" not in page and "  " not in page.split('<div class="case">')[1].split("</ul>")[0]
    async with r.core.db.read() as tx:  # the audit log keeps every link row
        rows = [h for h in await audit.for_case(tx, case.ref) if h["action"] == "link"]
    assert {h["result"] for h in rows} == {"ok", "refused"}
    out = io.StringIO()
    await ConsoleSession(r.core, "maria.sand", clock=r.clock, out=out).handle(f"/visa {case.ref}")  # type: ignore[arg-type]
    history = out.getvalue().split("Historik:")[1]
    assert len([line for line in history.splitlines() if line.strip()]) == 3, history
    assert "Kvitterat" in history and "link" not in history and "Försökte" not in history


async def test_the_samverkansniva_decision_recorded_from_a_link(running: Running) -> None:  # noqa: F811
    """A contact of the samverkansgrupp records its decision from the link its e-mail carries (ref = the case,
    item = the matter): the GET shows the form and writes nothing (no audit row, not even a refusal's); an empty
    decision comes back with the error; someone outside the group gets the page of a case that does not exist;
    a second decision is refused."""
    r = running
    signer = r.signer
    case, item = await disputed_past_agreement(r)
    await r.core.disputes.take_to_samverkan("sara.holm", item)
    [(matter, _)] = await r.core.disputes.samverkan.matters("jonas.sjo")
    now = r.clock.now()
    # the contact may not see the case: the matter's e-mail links the decision, not "Visa ärendet" (a dead end)
    assert visibility.level(await r.core.cases.get(case.ref), "jonas.sjo", r.core.directory) is Level.NONE
    [row] = [m for m in await outbox_rows(r.core, "samverkan_matter") if m["recipient_id"] == "jonas.sjo"]
    mail = render_mail(Message.from_json(json.loads(row["message"])), GraphTemplates(r.core.renderer),
                       lambda offer: f"{r.base_url}/a/{offer.action}")
    assert "Registrera beslut" in mail.html and "Visa ärendet" not in mail.html and "Visa ärendet" not in mail.text
    decide = signer.url("jonas.sjo", "samverkan_decide", case.ref, matter.id, now)

    async def audited() -> int:
        async with r.core.db.read() as tx:
            return int(await tx.scalar("SELECT COUNT(*) FROM audit"))

    before = await audited()
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("petra.lund", "samverkan_decide", case.ref, matter.id, now)) as resp:
            page = await resp.text()
            assert resp.status == 409 and "Hittar inget ärende" in page and "<form" not in page
        async with http.get(decide) as resp:
            page = await resp.text()
            assert resp.status == 200 and '<textarea id="f-beslut"' in page and 'maxlength="1000"' in page
            assert "<title>Registrera beslut – " in page and "bara till dem som ser hela ärendet" in page
            assert "Missbruket" not in page  # no free text of the case on the page
        assert await audited() == before  # the GETs wrote nothing
        async with http.post(decide, data={"beslut": ""}) as resp:
            assert resp.status == 400 and 'id="fel-beslut"' in await resp.text()
        async with http.post(decide, data={"beslut": "Kommunen ansvarar för boendestödet"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "beslut i frågan om" in page and "är hanterad" in page
        [(done, _)] = await r.core.disputes.samverkan.matters("jonas.sjo")
        assert not done.is_open and done.handled_by == "jonas.sjo"
        assert done.outcome == "Kommunen ansvarar för boendestödet"
        again = signer.url("sara.holm", "samverkan_decide", case.ref, matter.id, r.clock.now())
        async with http.get(again) as resp:
            page = await resp.text()
            assert resp.status == 409 and "redan hanterad" in page and "<form" not in page
        async with http.post(again, data={"beslut": "Något annat"}) as resp:
            assert resp.status == 403 and "redan hanterad" in await resp.text()
        [(done, _)] = await r.core.disputes.samverkan.matters("sara.holm")
        assert done.outcome == "Kommunen ansvarar för boendestödet"
