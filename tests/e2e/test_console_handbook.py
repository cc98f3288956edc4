"""Issue #18 items 20 and 21 through the console, with the handbook's people: Maria Sand (Socialtjänst Norr) asks
the region's Beroendemottagningen about Folke; Fatima Ali distributes and Linnea Fors is responsible."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.console_scenarios import acknowledged, section
from tests.e2e.test_console import console

FILED = """\
/gfi enhet=beroende typ=ny-en kort="Folke, 40 år, alkohol" samtycke=ja barn=nej
/gfi enhet=beroende typ=ny-en kort="man, 40 år, bor på Storgatan 12" samtycke=ja barn=nej
/gfi enhet=beroende typ=ny-en kort="man, 40 år, alkohol" kontakter="vårdcentralen, frivården" samtycke=ja barn=nej
/gfi enhet=psykiatri typ=ny-en kort="man 50 år, kontakt med Lifecare" samtycke=ja barn=nej kontrollerat=ja
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/som linnea.fors
/kvittera GFI-2026-0001
/visa GFI-2026-0001
"""


def test_a_name_or_an_address_is_warned_about_and_other_contacts_have_their_own_field(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", FILED)
    name = section(out, 'kort="Folke', "@maria.sand>")
    assert "Kort kring ärendet ser ut att innehålla ett namn. Skriv inte namn eller adress" in name
    assert "kontrollerat=ja" in name and "Folke" not in name.split("\n", 1)[1]  # never echoed
    assert "Kort kring ärendet ser ut att innehålla en adress." in section(out, "Storgatan", "@maria.sand>")
    # neither was filed: the first case is the one with the other contacts
    assigned = section(out, "→ @linnea.fors: Fatima Ali har fördelat GFI-2026-0001 till dig.", "→ @maria.sand")
    assert "Andra kontakter: vårdcentralen, frivården" in assigned
    assert "Kort kring ärendet: man, 40 år, alkohol" in assigned
    assert "GFI-2026-0002" in out and "GFI-2026-0003" not in out  # the confirmed one was filed, once
    assert "Andra kontakter: vårdcentralen, frivården" in section(out, "@linnea.fors> /visa", "Historik:")


MEETINGS = acknowledged('kort="man, 45 år, alkohol" samtycke=ja barn=nej') + """\
/boka GFI-2026-0001 2026-11-25T13:00 plats="Rum 3" enheter=soc-norr,beroende mötesform=tjänsteperson
/boka GFI-2026-0001 2026-11-25T13:00 plats="Rum 3" enheter=soc-norr,beroende mötesform=tjänsteperson syfte=förberedelse
/tid 2026-11-25T15:00
/uteblev GFI-2026-0001
/boka GFI-2026-0001 2026-11-26T13:00 plats="Rum 4" enheter=soc-norr,beroende
/boka GFI-2026-0001 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,beroende mötesform=gfi informerad=ja
/tid 2026-11-30T15:00
/utfall GFI-2026-0001 sip utvärdering=ja mandat=nej
/utfall GFI-2026-0001 sip utvärdering=ja delaktighet=7
/utfall GFI-2026-0001 sip utvärdering=ja
/utfall GFI-2026-0001 sip utvärdering=ja mandat=ja delaktighet=4 kommentar="kände sig lyssnad på"
/visa GFI-2026-0001
/journal GFI-2026-0001
/utfall GFI-2026-0001 lotsning utvärdering=nej lotsad-till="vårdcentralen Åstad"
/utfall GFI-2026-0001 aktualiseras utvärdering=nej
/visa GFI-2026-0001
"""


def test_a_tjanstepersonmote_the_individual_informed_and_what_the_outcome_records(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", MEETINGS)
    assert "Syfte med tjänstepersonmötet måste fyllas i." in out
    booked = section(out, "→ @maria.sand: Tjänstepersonmöte bokat för GFI-2026-0001", "@linnea.fors>")
    assert "utan den enskilde" in booked and "förberedelse inför GFI eller möte för upprättande av SIP" in booked
    assert "Mötet i GFI-2026-0001 är ett tjänstepersonmöte, där den enskilde inte deltar." in out
    # the one who booked, and the preparation reminder, say it is a tjänstepersonmöte (not "GFI-mötet")
    assert "→ @linnea.fors: Tjänstepersonmöte bokat för GFI-2026-0001: ons 25 nov 2026 kl. 13:00." in out
    prepare = section(out, "→ @maria.sand: Förbered tjänstepersonmötet i GFI-2026-0001", "→ @")
    assert "Den enskilde deltar inte i tjänstepersonmötet" in prepare
    assert "Vet den enskilde vem som kommer" not in prepare and "Behövs ett tjänstepersonmöte först" not in prepare
    # no message offers /uteblev for a tjänstepersonmöte, which would then be refused (item 22)
    staff_booked = section(out, "syfte=förberedelse", "@linnea.fors>")
    assert "Registrera utfall: /utfall" in staff_booked and "/uteblev" not in staff_booked
    # a rebooking without mötesform= keeps the tjänstepersonmöte and its purpose (noticed in #18's second pass)
    moved = section(out, "→ @maria.sand: Tjänstepersonmöte bokat för GFI-2026-0001 (ombokat)", "@linnea.fors>")
    assert "Rum 4" in moved and "förberedelse inför GFI" in moved
    gfi = section(out, "→ @maria.sand: GFI-möte bokat för GFI-2026-0001", "@linnea.fors>")
    assert "Den enskilde har informerats om vad mötet är och vilka som kommer." in gfi
    assert "En SIP kan upprättas vid GFI-mötet bara när de som medverkar har mandat att besluta" in out
    assert '"7" är inget giltigt val. Välj 1, 2, 3, 4 eller 5' in out
    # the older form still records, and says what is missing
    assert "Obs: ange om de som medverkade hade mandat att besluta om insatserna" in out
    assert "Obs: ange hur delaktig den enskilde var: delaktighet=1–5" in out
    view = section(out, "@linnea.fors> /visa GFI-2026-0001", "Historik:")
    assert ("Utfall: SIP upprättad vid GFI. De som medverkade hade mandat att besluta om insatserna. Delaktighet: 4 "
            "av 5 (1 = inte alls, 5 = helt). Kommentar: kände sig lyssnad på") in view
    assert "Den enskilde har informerats om vad mötet är och vilka som kommer." in view
    journal = section(out, "GFI – journalunderlag för GFI-2026-0001", "@linnea.fors>")
    assert "- Mötesform: GFI-möte med den enskilde." in journal
    assert "Delaktighet: 4 av 5" in journal and "Kommentar: kände sig lyssnad på" in journal
    last = out.rsplit("@linnea.fors> /visa GFI-2026-0001", 1)[1]
    assert "Utfall: ansökan/egenremiss – aktualiseras" in last
    lotsning = section(out, 'lotsad-till="vårdcentralen Åstad"', "@linnea.fors>")
    assert "lotsning till annan verksamhet" in lotsning
