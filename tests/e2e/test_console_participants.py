"""Issue #10 item 2 through the console: both parties at the meeting, who attends for each unit (named by the
booker, or by the unit's distributor with /utse), external participants listed and never messaged. Folke: the
nurse at the beroendemottagning asks socialtjänsten, psykiatri is covered by the consent too."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

BOOK = '/boka GFI-2026-0001 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,beroende,psykiatri'
FOLKE = "\n".join([
    '/gfi enhet=soc-norr typ=ny-en kort="man, 40 år, alkohol" samtycke=ja omfattar=soc-norr,beroende,psykiatri',
    "/som anna.lind",
    "/fördela GFI-2026-0001 maria.sand",
    "/som maria.sand",
    "/kvittera GFI-2026-0001",
    '/boka GFI-2026-0001 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,psykiatri',
    f'{BOOK} deltagare=beroende:linnea.fors,sofia.grahn extern="närstående:198001011234"',
    f'{BOOK} deltagare=beroende:linnea.fors,sofia.grahn extern="närstående:Eva, god man"',
    "/visa GFI-2026-0001",
    "/som ingrid.vik",
    "/utse GFI-2026-0001 yusuf.kaya",
    "/som maria.sand",
    "/visa GFI-2026-0001",
    "",
])


def test_both_parties_each_participant_told_and_externals_listed(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", FOLKE, person="sofia.grahn")
    # without the requester's unit the booking is refused, with the reason
    assert ("Mötet måste ha med både verksamheten som begärde GFI och den mottagande verksamheten. "
            "Lägg till Beroendemottagningen Åstad.") in out
    # an identity number in an external participant's name is refused; nothing is booked
    assert "Förnamnet innehåller något som ser ut som ett personnummer" in out
    # every named participant but the booker is told; psykiatri's distributor is asked to name someone
    assert "→ @linnea.fors: GFI-möte bokat för GFI-2026-0001" in out
    assert "→ @sofia.grahn: GFI-möte bokat för GFI-2026-0001" in out
    assert "→ @ingrid.vik: Vem från Allmänpsykiatriska mottagningen Åstad deltar i GFI-mötet i GFI-2026-0001?" in out
    assert "/utse GFI-2026-0001 <person>" in out  # the offer, as the console shows it
    # the case lists who attends, and the externals by role and first name
    assert ("Deltagare: Socialtjänst Norr, vuxen/missbruk: Maria Sand; Beroendemottagningen Åstad: Linnea Fors, "
            "Sofia Grahn; Allmänpsykiatriska mottagningen Åstad: utses av verksamhetens fördelare") in out
    assert "Allmänpsykiatriska mottagningen Åstad har ingen namngiven deltagare: fördelaren där har fått frågan" in out
    assert "Externa deltagare: närstående (Eva), god man" in out
    # the distributor names Yusuf Kaya, who is told
    assert "→ @yusuf.kaya: GFI-möte bokat för GFI-2026-0001" in out
    assert "Ingrid Vik har utsett dig att delta i mötet." in out
    assert "Allmänpsykiatriska mottagningen Åstad: Yusuf Kaya" in out
    assert "→ @ingrid.vik: Deltagare i mötet i GFI-2026-0001:" in out
    # the externals are never messaged: no arrow to anyone but directory people
    assert "→ @Eva" not in out and "→ @närstående" not in out
