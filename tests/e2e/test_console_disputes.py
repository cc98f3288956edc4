"""Disagreement is not silence (issue #10 item 7), watched from the console with the handbook's scenario: a man
with both a psychiatric and an addiction problem; the region's psychiatry says the case is the kommun's."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

START = """\
/gfi enhet=psykiatri typ=ny-en kort="man, 40 år, psykos och missbruk" samtycke=ja
/som ingrid.vik
/fördela GFI-2026-0001 yusuf.kaya
/som yusuf.kaya
/kvittera GFI-2026-0001
/inte-vårt GFI-2026-0001 "Missbruket är det primära, socialtjänstens uppdrag"
"""


def lines_of(out: str) -> list[str]:
    return out.splitlines()


def test_a_dispute_asks_both_line_managers_then_the_coordinators_with_a_brist_draft(tmp_path: Path) -> None:
    script = START + """\
/visa GFI-2026-0001
/som helena.ros
/visa GFI-2026-0001
/tid 2026-11-25T11:00
/som sara.holm
/utkast
/som maria.sand
/visa GFI-2026-0001
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    lines = lines_of(out)

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    disputed = at('/inte-vårt GFI-2026-0001')
    # both units' line managers are asked at once: the region's verksamhetschef and the kommun's sektionschef
    helena = at("→ @helena.ros: Tvist om ansvaret för GFI-2026-0001")
    carina = at("→ @carina.berg: Tvist om ansvaret för GFI-2026-0001")
    assert disputed < helena and disputed < carina
    # the requester is told, with the reason; the managers are not given the reason (summary only)
    assert "→ @maria.sand: Yusuf Kaya (Allmänpsykiatriska mottagningen Åstad) bedömer att GFI-2026-0001" in out
    assert out.count("Missbruket är det primära") >= 2  # the command and the requester's message
    manager_text = "\n".join(lines[min(helena, carina):max(helena, carina) + 6])
    assert "Missbruket" not in manager_text
    # the line manager sees the summary, never the reason or the brief
    view = "\n".join(lines[at("/som helena.ros"):at("Klockan är nu")])
    assert "Väntar på avgörande av tvist" in view and "Missbruket" not in view and "psykos" not in view
    # nobody settled within the business day: the coordinators of both principals, with a brist draft
    jonas = at("→ @jonas.sjo: Ansvarstrappan (samordnare på samverkansnivå): GFI-2026-0001")
    sara = at("→ @sara.holm: Ansvarstrappan (samordnare på samverkansnivå): GFI-2026-0001")
    assert helena < jonas and carina < sara
    assert "Ett utkast till rapport om brist i samverkan har skapats" in "\n".join(lines[sara:sara + 6])
    assert "/enig GFI-2026-0001" in "\n".join(lines[sara:sara + 8])
    # the case did not climb the unanswered ladder for the booking meanwhile, and it is not closed
    assert "väntar på bokning" not in out
    history = "\n".join(lines[at("/som maria.sand"):])
    assert "Bestridet: inte vårt ärende – skäl: Missbruket är det primära" in history
    assert "kvitterat" in history.lower() and "avslutat" not in history.split("Historik:")[0].lower()


def test_enig_settles_the_dispute_and_stops_its_ladder(tmp_path: Path) -> None:
    script = START + """\
/som maria.sand
/enig GFI-2026-0001 "Vi tar det"
/som carina.berg
/enig GFI-2026-0001 "Psykiatrin behåller ärendet; socialtjänsten deltar i mötet"
/enig GFI-2026-0001 "igen"
/tid 2026-11-26T11:00
/som yusuf.kaya
/visa GFI-2026-0001
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    lines = lines_of(out)

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    # the requester is not on either ladder: refused
    assert "Bara chefer i ansvarstrappan för de två verksamheterna" in out
    settled = at('/enig GFI-2026-0001 "Psykiatrin')
    assert "Tvisten om GFI-2026-0001 är avgjord" in lines[settled + 1]
    # everyone involved is told: the assignee and requester with the agreement, the other manager that it stopped
    assert at("→ @yusuf.kaya: Tvisten om GFI-2026-0001 är avgjord av Carina Berg") > settled
    assert at("→ @maria.sand: Tvisten om GFI-2026-0001 är avgjord av Carina Berg") > settled
    assert at("→ @helena.ros: Eskaleringen i GFI-2026-0001 är avslutad: tvisten är avgjord") > settled
    assert "Det finns ingen pågående tvist i GFI-2026-0001" in out
    # the dispute's ladder stopped: no coordinator was alerted about it
    assert "samordnare på samverkansnivå" not in out
    history = "\n".join(lines[at("/visa GFI-2026-0001"):])
    assert "Tvisten avgjord: Psykiatrin behåller ärendet; socialtjänsten deltar i mötet" in history


def test_a_coordinator_of_the_other_principal_takes_the_question_to_the_samverkansniva(tmp_path: Path) -> None:
    script = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja
/tid 2026-11-24T09:30
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/tid 2026-11-27T12:00
/som sara.holm
/taöver 2
/samverkan 2
/utkast
/som linnea.fors
/inte-vart GFI-2026-0001 "Gäller socialtjänsten"
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    # the kommun's coordinator takes over nothing in the region's unit (she was not alerted: the refusal does not
    # even confirm the case) ...
    taken = out.split("@sara.holm> /taöver 2")[1].split("@sara.holm>")[0]
    assert "Hittar inget ärende med referensen GFI-2026-0001" in taken and "tagit över" not in out
    # ... but takes the question to the samverkansnivå: the brist draft is hers too
    assert "Frågan i GFI-2026-0001 (bevakning 2) tas upp på samverkansnivå. Utkast 1" in out
    drafts = out.split("@sara.holm> /utkast")[1].split("@sara.holm>")[0]
    assert "GFI-2026-0001" in drafts
    # the ASCII alias works, and the assignee's dispute stops the acknowledgement's climb
    assert "Ni har angett att GFI-2026-0001 inte är ert ärende." in out
    assert "är avslutad: den mottagande verksamheten har bestridit ärendet" in out
