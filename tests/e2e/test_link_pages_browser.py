"""The action-link pages (`/a/<token>`) in a real browser: Debian's headless Chromium driven by Playwright.

At phone size (390×844) and desktop size, with JavaScript off: the page says what will happen before the
POST (who, which case, what the action does, that closing the page changes nothing, that the link works
once), the button is on the first screen, nothing overflows sideways, references do not wrap, the form works,
a used, expired, tampered or foreign link gets its clear page, the case is shown only after a button, a small
form (booking) shows a refused field with what was typed kept, and an expired link sends a fresh one. Every
response carries `Cache-Control: no-store`, `Referrer-Policy: no-referrer` and a restrictive
`Content-Security-Policy` with `frame-ancestors 'none'`; the page loads nothing else. A screenshot of each
page is kept under `test-artifacts/link-pages/` (or `$GFI_TEST_ARTIFACTS/link-pages/`).

Chromium comes from Debian's package (`scripts/setup` installs it); Playwright's own browser download is
not used. Without it the test is skipped on a developer's machine and fails under CI=true.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.brister.models import BristForm
from bot.cases.models import CaseState
from bot.channels.graph.links import LinkSigner
from tests.e2e.test_graph import Running, running  # noqa: F401  (the fixture: the Graph channel over HTTP)
from tests.timekit import form

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("GFI_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "link-pages"
VIEWPORTS = {"telefon": {"width": 390, "height": 844}, "dator": {"width": 1280, "height": 800}}


def chromium_path() -> str:
    found = os.environ.get("GFI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is missing: scripts/setup installs Debian's package `chromium` (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is missing: scripts/setup installs the dev dependencies")
        pytest.skip("playwright is missing (pip install -e '.[dev]')")
    async with async_playwright() as p:
        # --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox will not start
        launched = await p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


class Visit:
    """One browser context at one size with JavaScript off; every response and request recorded."""

    def __init__(self, page: Any, size: str, base_url: str) -> None:
        self.page = page
        self.size = size
        self.base_url = base_url
        self.requests: list[str] = []
        self.responses: list[Any] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.responses.append(r))

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.size}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000

    async def fits(self) -> None:
        """Nothing wider than the screen (no sideways scrolling on a phone), the text readable."""
        width = await self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[self.size]["width"], (self.size, width)
        size = await self.page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 16


async def nowrap(page: Any, ref: str) -> None:
    """The case reference never breaks over two lines, even on a phone."""
    for box in await page.locator("span.ref", has_text=ref).all():
        rects = await box.evaluate("e => e.getClientRects().length")
        assert rects == 1, ref


def secure(response: Any) -> None:
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    csp = {d.strip().split(" ", 1)[0]: d.strip() for d in headers["content-security-policy"].split(";")}
    assert csp["default-src"] == "default-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert "script-src" not in csp or "'none'" in csp["script-src"]
    assert headers["content-type"].startswith("text/html")


async def assigned_to_sofia(r: Running) -> str:
    case = await r.core.cases.request("maria.sand", form())
    await r.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    return case.ref


@pytest.mark.parametrize("size", list(VIEWPORTS))
async def test_link_pages_in_chromium_without_javascript(running: Running, browser: Any,  # noqa: F811
                                                         size: str) -> None:
    context = await browser.new_context(viewport=VIEWPORTS[size], java_script_enabled=False, locale="sv-SE")
    try:
        await pages(running, Visit(await context.new_page(), size, running.base_url), size)
    finally:
        await context.close()


async def pages(r: Running, visit: Visit, size: str) -> None:
    signer = r.signer
    page, now = visit.page, r.clock.now()
    ref = await assigned_to_sofia(r)
    link = signer.url("sofia.grahn", "acknowledge", ref, None, now)

    # before the POST: who, which case, what the button does, once only; the button on the first screen
    response = await page.goto(link)
    assert response is not None and response.status == 200
    secure(response)
    text = await page.inner_text("body")
    assert "Sofia Grahn, det här händer när du trycker på Kvittera:" in text
    assert f"Du bekräftar att du har tagit emot {ref} och att du tar kontakt med den som begärde mötet" in text
    assert "Stänger du sidan utan att trycka ändras ingenting. Länken fungerar en gång" in text
    assert await page.title() == f"Kvittera – {ref} – GFI-boten"
    await nowrap(page, ref)
    button = page.get_by_role("button", name="Kvittera")
    box = await button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= VIEWPORTS[size]["height"]
    await visit.fits()
    await visit.shot("1-bekrafta")
    assert (await r.core.cases.get(ref)).state is CaseState.ASSIGNED  # showing the page changed nothing

    # the POST, by the form alone (JavaScript is off)
    async with page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await button.click()
    done = await posted.value
    assert done.status == 200
    secure(done)
    await page.wait_for_load_state()
    assert f"Klart: du har kvitterat {ref}." in await page.inner_text("body")
    assert (await r.core.cases.get(ref)).state is CaseState.ACKNOWLEDGED
    await visit.fits()
    await visit.shot("2-klart")

    # the same link again: used, nothing changes
    response = await page.goto(link)
    assert response is not None and response.status == 410
    secure(response)
    text = await page.inner_text("body")
    assert "Länken är redan använd (" in text and "det som gjordes då gick igenom" in text
    assert await page.title() == "Länken är redan använd – GFI-boten"
    await visit.shot("3-redan-anvand")

    # expired, tampered, foreign: each its own clear page
    other = await assigned_to_sofia(r)
    expired = signer.url("sofia.grahn", "acknowledge", other, None, now - timedelta(days=8))
    body, _, mac = signer.token("sofia.grahn", "acknowledge", other, None, now).partition(".")
    tampered = f"{r.base_url}/a/{body[:-2]}xx.{mac}"
    foreign = LinkSigner("another-secret-0123456789abcdef", r.base_url).url(
        "sofia.grahn", "acknowledge", other, None, now)
    unknown_person = signer.url("nobody.here", "acknowledge", other, None, now)
    for name, url, status, says in [
        ("4-utgangen", expired, 410, "Länken har gått ut. Inget har ändrats."),
        ("5-ogiltig", tampered, 400, "Kontrollera att du har kopierat hela länken."),
        ("6-annan-nyckel", foreign, 400, "Länken är ogiltig."),
        ("7-inte-din", unknown_person, 403, "Länken gäller inte dig eller det här ärendet."),
    ]:
        response = await page.goto(url)
        assert response is not None and response.status == status, name
        secure(response)
        assert says in await page.inner_text("body"), name
        await visit.fits()
        await visit.shot(name)
    assert (await r.core.cases.get(other)).state is CaseState.ASSIGNED

    # the case: nothing on GET (a mail scanner sees nothing, no read is logged), shown after the button
    response = await page.goto(signer.url("sofia.grahn", "open", other, None, now))
    assert response is not None and response.status == 200
    secure(response)
    assert "alkohol" not in await page.inner_text("body")  # the brief of tests.timekit.form()
    await visit.fits()
    await visit.shot("8-visa-fraga")
    async with page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await page.get_by_role("button", name="Visa ärendet").click()
    assert (await posted.value).status == 200
    await page.wait_for_load_state()
    text = await page.inner_text("body")
    assert f"{other} – fördelad" in text and "alkohol" in text and "Nästa steg:" in text
    await visit.fits()
    await visit.shot("9-arendet")

    # a small form on the page: booking a Saturday is refused on the field, what was typed kept, then confirmed
    await r.core.cases.acknowledge("sofia.grahn", other)
    response = await page.goto(signer.url("sofia.grahn", "book", other, None, now))
    assert response is not None and response.status == 200
    secure(response)
    assert await page.title() == f"Boka möte – {other} – GFI-boten"
    await page.fill("#f-datum", "2026-11-28")
    await page.fill("#f-tid", "13:00")
    await page.fill("#f-plats", "Rum 4")
    await visit.fits()
    await visit.shot("10-boka")
    async with page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await page.get_by_role("button", name="Boka möte").click()
    assert (await posted.value).status == 400
    await page.wait_for_load_state()
    assert await page.locator("#fel-tid").count() == 1
    said = await page.inner_text("#fel-tid")  # the page's own words: the checkbox, not the console's
    assert 'kryssa i "Ja, tiden är rätt"' in said and "bekräfta=ja" not in said and "konsol" not in said
    assert await page.input_value("#f-plats") == "Rum 4"
    await visit.fits()
    await visit.shot("11-boka-fel")
    await page.get_by_label("Ja, tiden är rätt").check()
    async with page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await page.get_by_role("button", name="Boka möte").click()
    assert (await posted.value).status == 200
    await page.wait_for_load_state()
    assert "är bokat" in await page.inner_text("body")
    assert (await r.core.cases.get(other)).state is CaseState.MEETING_BOOKED

    # an expired link: a fresh one is sent to the person, not shown here
    response = await page.goto(expired)
    assert response is not None and response.status == 410
    async with page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await page.get_by_role("button", name="Skicka en ny länk").click()
    assert (await posted.value).status == 200
    await page.wait_for_load_state()
    assert "En ny länk är skickad till din e-post" in await page.inner_text("body")
    assert await page.locator("a[href*='/a/']").count() == 0
    await visit.fits()
    await visit.shot("12-ny-lank")

    # the pages load nothing but themselves: no script, style sheet, font or image from anywhere
    assert all(u.startswith(r.base_url + "/a/") for u in visit.requests), visit.requests
    assert await page.locator("script").count() == 0


@pytest.mark.parametrize("size", list(VIEWPORTS))
async def test_the_forms_for_waiting_consent_disputes_and_reports_in_chromium(running: Running, browser: Any,  # noqa: F811
                                                                              size: str) -> None:
    """Issue #20 item 8's further pages: each reads on a phone without JavaScript, says what it will do, keeps
    what was typed when refused, and acts by the form alone."""
    context = await browser.new_context(viewport=VIEWPORTS[size], java_script_enabled=False, locale="sv-SE")
    try:
        await more_pages(running, Visit(await context.new_page(), size, running.base_url))
    finally:
        await context.close()


async def post_by(visit: Visit, button: str) -> int:
    async with visit.page.expect_response(lambda resp: resp.request.method == "POST") as posted:
        await visit.page.get_by_role("button", name=button, exact=True).click()
    status: int = (await posted.value).status
    await visit.page.wait_for_load_state()
    return status


async def more_pages(r: Running, visit: Visit) -> None:
    signer = r.signer
    page, now = visit.page, r.clock.now()
    ref = await assigned_to_sofia(r)
    await r.core.cases.acknowledge("sofia.grahn", ref)

    # vilande: a date and a reason; a refused form keeps the reason, then it waits
    response = await page.goto(signer.url("sofia.grahn", "wait", ref, None, now))
    assert response is not None and response.status == 200
    secure(response)
    assert "eskaleras ingenting" in await page.inner_text("body")
    await page.fill("#f-vantar_skal", "Den enskilde vill vänta")
    await nowrap(page, ref)
    await visit.fits()
    await visit.shot("20-vilande")
    await page.fill("#f-till", "2026-11-20")  # in the past: refused on the field
    assert await post_by(visit, "Sätt som vilande") == 400
    assert await page.locator("#fel-till").count() == 1
    assert await page.input_value("#f-vantar_skal") == "Den enskilde vill vänta"
    await visit.fits()
    await visit.shot("21-vilande-fel")
    await page.fill("#f-till", "2026-12-14")
    assert await post_by(visit, "Sätt som vilande") == 200
    assert (await r.core.cases.get(ref)).state is CaseState.WAITING
    await visit.fits()

    # the consent: renewing has the most inputs of any link form; withdrawing says it cannot be undone
    response = await page.goto(signer.url("maria.sand", "renew_consent", ref, None, now))
    assert response is not None and response.status == 200
    await visit.fits()
    await visit.shot("22-fornya-samtycke")
    response = await page.goto(signer.url("maria.sand", "withdraw_consent", ref, None, now))
    assert response is not None and response.status == 200
    assert "Det går inte att ångra" in await page.inner_text("body")
    await visit.fits()
    await visit.shot("23-aterkalla")

    # a dispute: a text box; the other side's proposal is read after a button, then confirmed
    disputed = (await r.core.cases.request("maria.sand", form(target_unit="psykiatri"))).ref
    await r.core.cases.assign("ingrid.vik", disputed, ["yusuf.kaya"])
    response = await page.goto(signer.url("ingrid.vik", "dispute", disputed, None, now))
    assert response is not None and response.status == 200
    await page.fill("#f-tvist_skal", "Gäller socialtjänsten")
    await visit.fits()
    await visit.shot("24-inte-vart")
    assert await post_by(visit, "Inte vårt ärende") == 200
    await r.core.disputes.settle("carina.berg", disputed, "Psykiatrin behåller ärendet")
    response = await page.goto(signer.url("helena.ros", "confirm_agreement", disputed, None, now))
    assert response is not None and response.status == 200
    assert "Psykiatrin behåller" not in await page.inner_text("body")
    await nowrap(page, disputed)
    await visit.fits()
    await visit.shot("25-bekrafta-forslag")
    assert await post_by(visit, "Visa förslaget") == 200
    assert "Psykiatrin behåller ärendet" in await page.inner_text("body")
    await visit.fits()
    assert await post_by(visit, "Bekräfta förslaget") == 200
    assert "tvisten om" in await page.inner_text("body") and not (await r.core.cases.get(disputed)).disputed
    await visit.shot("26-avgjord")

    # a report of a brist i samverkan: the unit's distributor records the measures
    report = await r.core.brister.file("maria.sand", BristForm(units=["soc-norr", "beroende"], causes=["sip"],
                                                               what="SIP-mötet blev aldrig av."))
    response = await page.goto(signer.url("fatima.ali", "brist_measures", report.ref, None, now))
    assert response is not None and response.status == 200
    await page.fill("#f-atgarder", "Rutin för kallelser ses över")
    await visit.fits()
    await visit.shot("27-brist-atgarder")
    assert await post_by(visit, "Registrera åtgärder") == 200
    assert "åtgärderna är sparade" in await page.inner_text("body")
    assert all(u.startswith(r.base_url + "/a/") for u in visit.requests), visit.requests
