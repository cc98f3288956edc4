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
    # the requester is told, with the reason; so are the line managers asked to settle it, with the brief
    # (issue #18 item 1: they read the whole case while the dispute is open)
    assert "→ @maria.sand: Yusuf Kaya (Allmänpsykiatriska mottagningen Åstad) bedömer att GFI-2026-0001" in out
    manager_text = "\n".join(lines[min(helena, carina):max(helena, carina) + 8])
    assert "Skäl: Missbruket är det primära" in manager_text and "Kort om ärendet: man, 40 år" in manager_text
    view = "\n".join(lines[at("/som helena.ros"):at("Klockan är nu")])
    assert "Kort: man, 40 år, psykos och missbruk" in view and "Skäl: Missbruket" in view
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
/som helena.ros
/enig GFI-2026-0001
/enig GFI-2026-0001
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
    proposed = at('/enig GFI-2026-0001 "Psykiatrin')
    assert "Ditt förslag till överenskommelse i tvisten om GFI-2026-0001 är registrerat" in lines[proposed + 1]
    # the other side (the region's verksamhetschef) gets the proposal to confirm; nothing is settled yet
    assert at("→ @helena.ros: Förslag till överenskommelse i tvisten om GFI-2026-0001 från Carina Berg") > proposed
    assert "Förslag: Psykiatrin behåller ärendet" in out and "Bekräfta förslaget: /enig GFI-2026-0001" in out
    # her own side cannot confirm her proposal
    own = at("@carina.berg> /enig GFI-2026-0001 \"igen\"")
    assert "Ditt förslag" in lines[own + 1]  # a new text from the same side replaces the proposal
    settled = at("@helena.ros> /enig GFI-2026-0001")
    assert "Överenskommelsen i tvisten om GFI-2026-0001 är registrerad" in lines[settled + 1]
    # everyone involved is told: the assignee and requester with the agreement and both names
    assert at("→ @yusuf.kaya: Överenskommelse registrerad av Carina Berg och Helena Ros") > settled
    assert at("→ @maria.sand: Överenskommelse registrerad av Carina Berg och Helena Ros") > settled
    assert at("→ @carina.berg: Eskaleringen i GFI-2026-0001 är avslutad: båda sidor är överens") > settled
    assert "Det finns ingen pågående tvist i GFI-2026-0001" in out
    # the dispute's ladder stopped: no coordinator was alerted about it
    assert "samordnare på samverkansnivå" not in out
    history = "\n".join(lines[at("@yusuf.kaya> /visa GFI-2026-0001"):])
    assert "Förslag till överenskommelse i tvisten" in history
    assert "Överenskommelse registrerad, tvisten avgjord: igen" in history


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
    # (issue #18 item 4) handed to the kommun and region's samverkansgrupp, with the brist draft
    assert ("Frågan i GFI-2026-0001 (bevakning 2) tas upp på samverkansnivå. Den har lämnats till "
            "Samverkansgruppen psykiatri och missbruk, Åstad som fråga 1") in out
    assert "frågan bevakas tills beslutet är registrerat: /samverkansbeslut 1 \"<beslut>\". Utkast 1" in out
    drafts = out.split("@sara.holm> /utkast")[1].split("@sara.holm>")[0]
    assert "GFI-2026-0001" in drafts
    # the ASCII alias works, and the assignee's dispute stops the acknowledgement's climb
    assert "Ni har angett att GFI-2026-0001 inte är ert ärende." in out
    assert "är avslutad: den mottagande verksamheten har bestridit ärendet" in out
