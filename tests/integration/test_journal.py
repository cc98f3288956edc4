"""The journal record (issue #10 item 9): `/journal <ref>`, the Journalunderlag button, and
`gfi-bot journal <ref> --pdf FILE` give the people in the case a plain-text summary to paste into their own
journal system: units, dates, consent, participants, outcome, follow-ups and the closing reason."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from bot.channels.console import ConsoleSession
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.messages import actions as A
from tests.conftest import RecordingSender, local
from tests.timekit import advance, form

# About the SQLite file itself (its pages, -wal and -shm, its migrations, a command given its path).
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"])

PLACE = "Beroendemottagningen, rum 4"
WHAT = "Kontakt med boendestödet tas"


async def say(core: Core, clock: FrozenClock, person: str, line: str) -> str:
    out = io.StringIO()
    await ConsoleSession(core, person, clock=clock, out=out).handle(line)  # type: ignore[arg-type]
    return out.getvalue()


async def held_and_closed(core: Core, clock: FrozenClock, sender: RecordingSender) -> str:
    """Anders (seed 002): socialtjänsten asks beroendemottagningen; a mapping, a follow-up, closed."""
    case = await core.cases.request("maria.sand", form(
        case_type="ny-båda", consent_covers=["kontaktuppgifter", "pagaende-insatser"], consent_form="skriftligt",
        children="nej"))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-25T13:00"), PLACE, ["soc-norr", "beroende"])
    await advance(core, clock, sender, local("2026-11-25T15:00"), step=timedelta(hours=1))
    await core.cases.record_outcome("linnea.fors", case.ref, "kartläggning", True)
    await core.cases.add_follow_up("linnea.fors", case.ref, "linnea.fors", local("2026-12-09T12:00").date(), WHAT)
    await core.cases.close("linnea.fors", case.ref, "genomförd", follow_ups="överlåt")
    await core.tick()
    return case.ref


async def test_the_journal_holds_what_the_journal_system_needs(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held_and_closed(core, clock, sender)
    text = await say(core, clock, "maria.sand", f"/journal {ref.lower()}")
    assert f"GFI – journalunderlag för {ref}" in text
    assert "Begärt av: Maria Sand, Socialtjänst Norr, vuxen/missbruk." in text
    assert "Till: Beroendemottagningen Åstad." in text
    # consent: units, what, until when, written or oral, who obtained it
    # unit names hold commas: the list is separated unambiguously (issue #18 item 15)
    assert "Omfattar: Socialtjänst Norr, vuxen/missbruk; Beroendemottagningen Åstad." in text
    assert "Omfattas av sekretess enligt OSL" in text
    assert "Det avser kontaktuppgifter, pågående insatser." in text
    assert "Gäller till och med" in text and "Det gavs skriftligt; inhämtat av Maria Sand." in text
    assert "Linnea Fors, Beroendemottagningen Åstad (ansvarig medarbetare)" in text
    assert f"Hölls ons 25 nov 2026 kl. 13:00, {PLACE}." in text
    assert "Utfall: gemensam kartläggning/utredning; gemensam utvärdering gjord." in text
    assert f"1. Linnea Fors, senast ons 9 dec 2026: {WHAT} (överlämnad till Linnea Fors vid avslut)." in text
    assert "Avslut: ons 25 nov 2026, genomfört." in text
    # the course in the past tense, with dates, in order
    course = text.split("Förlopp", 1)[1]
    steps = ["Förfrågan registrerad", "Fördelat", "Kvitterat", "Möte bokat", "Utfall registrerat",
             "Uppföljning tillagd", "Avslutat"]
    positions = [course.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Man, 45 år" not in text  # the brief stays out: the journal system has the case's own notes
    assert "None" not in text


async def test_the_journal_is_offered_once_the_meeting_was_held(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held_and_closed(core, clock, sender)
    closed = [s for s in sender.sent if s.template == "case_closed" and s.recipient == "maria.sand"]
    assert closed and f"/journal {ref}" in closed[-1].text
    early = await core.cases.request("maria.sand", form())
    answer = await say(core, clock, "maria.sand", f"/visa {early.ref}")
    assert "/journal" not in answer  # nothing to record before a meeting
    assert A.ACTIONS[A.JOURNAL].slack_action_id == "gfi_journal"


def cli(db: Path, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_", "GRAPH_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", command, "--db", str(db), "--directory", str(DEFAULT_DIRECTORY), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def journal_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(db, "journal", *args)


def pdf_title(data: bytes) -> str:
    """The document title of a PDF (its Info dictionary)."""
    with pikepdf.open(io.BytesIO(data)) as doc:
        return str(doc.docinfo["/Title"])


@SQLITE_ONLY
async def test_the_cli_writes_the_journal_as_pdf_for_someone_in_the_case(
    core: Core, clock: FrozenClock, sender: RecordingSender, tmp_path: Path
) -> None:
    ref = await held_and_closed(core, clock, sender)
    await core.close()
    db = tmp_path / "gfi.sqlite3"
    out = tmp_path / "journal.pdf"

    written = journal_cli(db, ref, "--as", "linnea.fors", "--pdf", str(out))
    assert written.returncode == 0, written.stderr
    assert f"Journalunderlaget för {ref} är skrivet" in written.stdout
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"/Type /Page" in data
    assert pdf_title(data) == f"GFI – journalunderlag {ref}"
    doc = pikepdf.open(io.BytesIO(data))
    assert str(doc.Root.Lang) == "sv-SE" and "/StructTreeRoot" in doc.Root  # language set, tagged
    copied = pdfium.PdfDocument(data)[0].get_textpage().get_text_range()
    assert copied.rstrip().endswith(f"Omfattas av sekretess enligt OSL GFI – journalunderlag {ref} – sida 1 av 1")
    assert "fontTools" not in written.stderr  # quiet at the default level

    text = journal_cli(db, ref, "--as", "maria.sand")
    assert text.returncode == 0 and "Utfall: gemensam kartläggning/utredning" in text.stdout

    # someone with no part in the case: the unknown-reference answer, nothing written
    refused = journal_cli(db, ref, "--as", "petra.lund", "--pdf", str(tmp_path / "nej.pdf"))
    assert refused.returncode == 1 and "Hittar inget ärende" in refused.stderr
    assert not (tmp_path / "nej.pdf").exists()
    unknown = journal_cli(db, ref, "--as", "ingen.alls")
    assert unknown.returncode == 2 and "Okänd person" in unknown.stderr and "Traceback" not in unknown.stderr

    read_log = cli(db, "read-log", "--ref", ref)
    assert "Linnea Fors (linnea.fors)  journalunderlag, kommandoraden" in read_log.stdout
    assert "petra.lund" not in read_log.stdout


async def test_a_refused_journal_is_audited_on_every_channel(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held_and_closed(core, clock, sender)
    answer = await say(core, clock, "petra.lund", f"/journal {ref}")  # no part in the case
    assert "Hittar inget ärende" in answer and "journalunderlag" not in answer
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT actor_id, result FROM audit WHERE action = 'journal'")
    assert [(r["actor_id"], r["result"]) for r in rows] == [("petra.lund", "refused")]
