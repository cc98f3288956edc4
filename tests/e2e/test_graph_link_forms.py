"""Issue #20 item 8: an e-mail person does what their role asks from links, over real HTTP against the link pages.

Small forms on the page (assign, book, record an outcome, add a follow-up) with the same rules and field checks as
the other channels; a refused form comes back with what was typed and does not use the link up; the done page
links the next steps; the case is shown as far as the need-to-know rule lets the person see it, after a POST, and
logged in the read log; an expired link offers a fresh one, sent to the person's own address and never shown on
the page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import aiohttp

from bot.cases.models import CaseState
from bot.store import reads as reads_store
from tests.conftest import local
from tests.e2e.test_graph import BRIEF, CONTACT, Running, booked, running  # noqa: F401  (the fixture)
from tests.timekit import form


def links_in(page: str) -> dict[str, str]:
    """{label: url} of the next-step links on a page."""
    return {label: url for url, label in re.findall(r'<a class="step" href="([^"]+)">([^<]+)</a>', page)}


async def test_an_email_person_takes_a_case_from_assignment_to_follow_up_by_links(running: Running) -> None:  # noqa: F811
    r = running
    signer = r.signer
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    now = r.clock.now()
    async with aiohttp.ClientSession() as http:
        # the distributor assigns from a link: a form listing the unit's staff, each once
        assign = signer.url("fatima.ali", "assign", case.ref, None, now)
        async with http.get(assign) as resp:
            page = await resp.text()
            assert resp.status == 200 and page.count('value="sofia.grahn"') == 1 and "<script" not in page
            assert "<title>Fördela – " in page
        assert (await r.core.cases.get(case.ref)).state is CaseState.REQUESTED  # GET changes nothing
        async with http.post(assign, data={"personer": "sofia.grahn"}) as resp:
            assert resp.status == 200 and "är fördelat" in await resp.text()
        assert (await r.core.cases.get(case.ref)).assignees == ["sofia.grahn"]

        # Sofia acknowledges; the done page links her next step, booking (no "do it in GFI-boten" dead end)
        ack = signer.url("sofia.grahn", "acknowledge", case.ref, None, r.clock.now())
        async with http.post(ack) as resp:
            page = await resp.text()
            assert resp.status == 200
        book = links_in(page)["Boka möte"]

        # a refused form: the error under the field, what was typed kept, the link not used up
        async with http.post(book, data={"datum": "2026-11-24", "plats": "Rum 4", "enheter": ["soc-norr", "beroende"]}
                             ) as resp:
            page = await resp.text()
            assert resp.status == 400 and 'id="fel-tid"' in page and 'value="Rum 4"' in page
        assert (await r.core.cases.get(case.ref)).state is CaseState.ACKNOWLEDGED
        async with http.post(book, data={"datum": "2026-11-24", "tid": "13:00", "plats": "Rum 4",
                                         "enheter": ["soc-norr", "beroende"]}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "mötet i" in page and "är bokat" in page
        booked = await r.core.cases.get(case.ref)
        assert booked.state is CaseState.MEETING_BOOKED and booked.meeting_place == "Rum 4"
        async with http.post(book, data={"datum": "2026-11-24", "tid": "14:00", "plats": "Rum 5",
                                         "enheter": ["soc-norr", "beroende"]}) as resp:
            assert resp.status == 410  # used: it worked once
        outcome = links_in(page)["Registrera utfall"]

        r.clock.advance(timedelta(days=2))  # after the meeting
        async with http.post(outcome, data={"utfall": "kartlaggning"}) as resp:  # the evaluation is required
            assert resp.status == 400 and 'id="fel-utvardering"' in await resp.text()
        async with http.post(outcome, data={"utfall": "kartlaggning", "utvardering": "ja"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "utfallet i" in page
        assert (await r.core.cases.get(case.ref)).state is CaseState.MEETING_HELD
        follow = links_in(page)["Lägg till uppföljning"]
        async with http.get(follow) as resp:
            assert resp.status == 200 and 'name="agare"' in await resp.text()
        async with http.post(follow, data={"agare": "sofia.grahn", "datum": "2026-12-20",
                                           "vad": "Stämma av insatserna"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "uppföljningen i" in page
        [added] = (await r.core.cases.get(case.ref)).follow_ups
        assert added.owner_id == "sofia.grahn" and added.what == "Stämma av insatserna"
        assert "Markera uppföljningen klar" in links_in(page)


async def test_a_form_is_offered_only_to_who_may_use_it(running: Running) -> None:  # noqa: F811
    """The rule before the form (as Teams' and Slack's): no form for someone who may not, and someone outside the
    case gets the page of a case that does not exist."""
    signer = running.signer
    case = await running.core.cases.request("maria.sand", form())
    now = running.clock.now()
    async with aiohttp.ClientSession() as http:
        async with http.get(signer.url("maria.sand", "assign", case.ref, None, now)) as resp:  # sees it, may not
            page = await resp.text()
            assert resp.status == 409 and "<form" not in page and "fördela" in page
        pages = []
        for ref in (case.ref, "GFI-2026-9999"):
            async with http.get(signer.url("jonas.sjo", "book", ref, None, now)) as resp:
                pages.append((resp.status, (await resp.text()).replace(ref, "X")))
        assert pages[0] == pages[1] and "<form" not in pages[0][1]


async def test_the_case_is_shown_as_far_as_the_person_may_see_it_and_logged(running: Running) -> None:  # noqa: F811
    signer = running.signer
    case = await running.core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    now = running.clock.now()
    mine = signer.url("sofia.grahn", "open", case.ref, None, now)
    async with aiohttp.ClientSession() as http:
        async with http.get(mine) as resp:  # a mail scanner's GET shows nothing and logs nothing
            page = await resp.text()
            assert resp.status == 200 and BRIEF not in page and "<button" in page
        async with running.core.db.read() as tx:
            assert await reads_store.for_case(tx, case.ref) == []
        async with http.post(mine) as resp:
            page = await resp.text()
            assert resp.status == 200 and BRIEF in page and "Kvittera" in links_in(page)
        async with running.core.db.read() as tx:
            [read] = await reads_store.for_case(tx, case.ref)
        assert read["person_id"] == "sofia.grahn" and read["channel"] == "email" and read["view"] == "visa"
        pages = []
        for ref in (case.ref, "GFI-2026-9999"):  # outside the case: as for no such case, nothing shown or logged
            async with http.post(signer.url("jonas.sjo", "open", ref, None, now)) as resp:
                pages.append((resp.status, (await resp.text()).replace(ref, "X")))
        assert pages[0] == pages[1] and pages[0][0] == 404 and BRIEF not in pages[0][1]
    async with running.core.db.read() as tx:
        assert len(await reads_store.for_case(tx, case.ref)) == 1


async def test_an_expired_link_sends_a_fresh_one_to_the_persons_own_address(running: Running) -> None:  # noqa: F811
    signer = running.signer
    case = await running.core.cases.request("maria.sand", form())
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    await running.tick()
    before = len(running.mails_to("sofia.grahn@rsv.example.se"))
    old = signer.url("sofia.grahn", "acknowledge", case.ref, None, running.clock.now() - timedelta(days=8))
    async with aiohttp.ClientSession() as http:
        async with http.get(old) as resp:
            page = await resp.text()
            assert resp.status == 410 and "Skicka en ny länk" in page and 'name="ny"' in page
        async with http.post(old, data={"ny": "1"}) as resp:
            page = await resp.text()
            assert resp.status == 200 and "En ny länk är skickad till din e-post" in page
            assert "/a/" not in page  # the fresh link never shows to whoever holds the old one
        async with http.post(old, data={"ny": "1"}) as resp:  # once per link
            assert "redan skickad" in await resp.text()
        mails = running.mails_to("sofia.grahn@rsv.example.se")[before:]
        assert len(mails) == 1 and case.ref in mails[0]["subject"]
        fresh = re.findall(r'href="([^"]+/a/[^"]+)"', mails[0]["body"]["content"])
        assert fresh
        async with http.post(fresh[0]) as resp:
            assert resp.status == 200
    assert (await running.core.cases.get(case.ref)).state is CaseState.ACKNOWLEDGED


async def test_a_distributor_names_who_attends_from_a_link(running: Running) -> None:  # noqa: F811
    signer = running.signer
    scope = ["soc-norr", "beroende", "psykiatri"]
    case = await running.core.cases.request("maria.sand", form(consent_scope=scope))
    await running.core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await running.core.cases.acknowledge("linnea.fors", case.ref)
    await running.core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", scope)
    appoint = signer.url("ingrid.vik", "appoint", case.ref, None, running.clock.now())
    async with aiohttp.ClientSession() as http:
        async with http.get(appoint) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'value="yusuf.kaya"' in page
        async with http.post(appoint, data={}) as resp:  # nobody chosen: the error on the field
            assert resp.status == 400 and 'id="fel-deltagare"' in await resp.text()
        async with http.post(appoint, data={"deltagare": "yusuf.kaya"}) as resp:
            assert resp.status == 200 and "är utsedd" in await resp.text()
    attending = [a.person_id for a in (await running.core.cases.get(case.ref)).attendees]
    assert "yusuf.kaya" in attending


async def test_a_no_show_and_closing_from_links(running: Running) -> None:  # noqa: F811
    signer = running.signer
    ref = await booked(running)
    async with aiohttp.ClientSession() as http:
        no_show = signer.url("sofia.grahn", "no_show", ref, None, running.clock.now())
        async with http.get(no_show) as resp:
            page = await resp.text()
            assert resp.status == 200 and "uteblev från mötet" in page and "<button" in page
        async with http.post(no_show) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Boka möte" in links_in(page)
        assert (await running.core.cases.get(ref)).meeting_at is None
        await running.core.cases.book("linnea.fors", ref, local("2026-11-24T13:00"), "Rum 3", ["soc-norr", "beroende"])
        running.clock.advance(timedelta(days=2))
        await running.core.cases.record_outcome("linnea.fors", ref, "kartlaggning", True)
        close = signer.url("sofia.grahn", "close", ref, None, running.clock.now())
        async with http.get(close) as resp:
            page = await resp.text()
            assert resp.status == 200 and 'name="skal"' in page and 'value="samtycke-aterkallat"' not in page
        async with http.post(close, data={"skal": "annat"}) as resp:  # "annat" needs its text
            assert resp.status == 400 and 'id="fel-annat"' in await resp.text()
        async with http.post(close, data={"skal": "genomford"}) as resp:
            assert resp.status == 200 and "är avslutat" in await resp.text()
    assert (await running.core.cases.get(ref)).state is CaseState.CLOSED


async def test_a_proposed_follow_up_is_declined_from_a_link(running: Running) -> None:  # noqa: F811
    signer = running.signer
    ref = await booked(running, at="2026-11-24T13:00")
    running.clock.advance(timedelta(days=2))
    await running.core.cases.record_outcome("linnea.fors", ref, "kartlaggning", True)
    await running.core.cases.add_follow_up("linnea.fors", ref, "maria.sand", date(2026, 12, 10), "Ring upp")
    decline = signer.url("maria.sand", "decline_follow_up", ref, 1, running.clock.now())
    other = signer.url("sofia.grahn", "decline_follow_up", ref, 1, running.clock.now())
    async with aiohttp.ClientSession() as http:
        async with http.get(other) as resp:  # not hers to answer: no button
            assert resp.status == 409 and "<button" not in await resp.text()
        async with http.get(decline) as resp:
            assert resp.status == 200 and "Du avböjer förslaget till uppföljning 1" in await resp.text()
        async with http.post(decline) as resp:
            assert resp.status == 200 and "är avböjt" in await resp.text()
    assert (await running.core.cases.get(ref)).follow_ups[0].declined
