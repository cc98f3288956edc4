"""Disputes both sides agree on, from the console with the handbook's people (issue #18 items 1, 2, 3 and 7): a
man with psychosis and an addiction; the region's psychiatry says the case is the kommun's socialtjänst's."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

DISPUTED = """\
/gfi enhet=psykiatri typ=ny-en kort="man, 40 år, psykos och missbruk" samtycke=ja
/som ingrid.vik
/fördela GFI-2026-0001 yusuf.kaya
/som yusuf.kaya
/kvittera GFI-2026-0001
/inte-vårt GFI-2026-0001 "Missbruket är det primära, socialtjänstens uppdrag"
"""


def reply_to(out: str, prompt: str) -> str:
    """What the bot answered (to anyone) after the line `prompt`, up to the next prompt."""
    return out.split(prompt, 1)[1].split("\n@", 1)[0]


def test_the_line_managers_asked_read_the_case_and_list_the_dispute(tmp_path: Path) -> None:
    """Item 1: the line managers get the reason and the brief, read the whole case while the dispute is open, and
    /eskaleringar lists the dispute they were asked about."""
    script = DISPUTED + """\
/som helena.ros
/eskaleringar
/visa GFI-2026-0001
/som nils.alm
/eskaleringar
/visa GFI-2026-0001
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    asked = reply_to(out, '@yusuf.kaya> /inte-vårt GFI-2026-0001')
    for manager in ("helena.ros", "carina.berg"):
        message = asked.split(f"→ @{manager}: ", 1)[1].split("\n→", 1)[0]
        assert "Skäl: Missbruket är det primära" in message and "Kort om ärendet: man, 40 år" in message
    listed = reply_to(out, "@helena.ros> /eskaleringar")
    assert "bevakning 4: GFI-2026-0001 väntar på avgörande av tvist" in listed
    assert "/enig GFI-2026-0001" in listed and "/taöver" not in listed
    view = reply_to(out, "@helena.ros> /visa GFI-2026-0001")
    assert "Kort: man, 40 år, psykos och missbruk" in view and "Skäl: Missbruket" in view
    # a manager on neither unit's ladder was asked nothing and sees nothing
    assert "Inga öppna eskaleringar" in reply_to(out, "@nils.alm> /eskaleringar")
    assert "Hittar inget ärende med referensen GFI-2026-0001" in reply_to(out, "@nils.alm> /visa GFI-2026-0001")


def test_a_coordinator_proposes_and_only_the_other_principal_confirms(tmp_path: Path) -> None:
    """Item 2: the kommun's samordnare proposes at the samverkansnivå; she cannot settle it for the region; the
    region's psykiatrisamordnare confirms, and the agreement names both."""
    script = DISPUTED + """\
/tid 2026-11-24T11:00
/som sara.holm
/eskaleringar
/enig GFI-2026-0001 "Socialtjänsten tar ärendet, psykiatrin deltar i mötet"
/enig GFI-2026-0001
/som jonas.sjo
/visa GFI-2026-0001
/enig GFI-2026-0001
/som maria.sand
/visa GFI-2026-0001
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    listed = reply_to(out, "@sara.holm> /eskaleringar")
    assert "nu hos samordnare på samverkansnivå" in listed and "@coordinators" not in listed
    proposed = reply_to(out, '@sara.holm> /enig GFI-2026-0001 "Socialtjänsten')
    assert "Ditt förslag till överenskommelse i tvisten om GFI-2026-0001 är registrerat" in proposed
    assert "→ @helena.ros: Förslag till överenskommelse i tvisten om GFI-2026-0001 från Sara Holm" in proposed
    assert "→ @jonas.sjo: Förslag till överenskommelse" in proposed
    assert "→ @carina.berg" not in proposed  # her own side is not asked to confirm
    refused = reply_to(out, "@sara.holm> /enig GFI-2026-0001\n")
    assert "Tvisten är avgjord när någon på den andra sidan" in refused
    # the region's coordinator, alerted at the samverkansnivå, reads what he confirms
    assert "Skäl: Missbruket" in reply_to(out, "@jonas.sjo> /visa GFI-2026-0001")
    settled = reply_to(out, "@jonas.sjo> /enig GFI-2026-0001\n")
    assert "Överenskommelsen i tvisten om GFI-2026-0001 är registrerad" in settled
    assert "→ @maria.sand: Överenskommelse registrerad av Sara Holm och Jonas Sjö i tvisten om GFI-2026-0001" in settled
    assert "Överenskommelse: Socialtjänsten tar ärendet, psykiatrin deltar i mötet" in settled
    history = reply_to(out, "@maria.sand> /visa GFI-2026-0001")
    assert "Sara Holm  Förslag till överenskommelse i tvisten" in history
    assert "Jonas Sjö  Överenskommelse registrerad, tvisten avgjord: Socialtjänsten tar ärendet" in history
    assert "Tvist:" not in history.split("Historik:")[0]  # no longer disputed


def test_a_disputed_request_waits_in_the_queue_and_is_not_closed_on_the_side(tmp_path: Path) -> None:
    """Item 3: the distributor disputes a request before distributing it: the queue marks it, it cannot be assigned
    or closed as "inte vår målgrupp" until both sides agreed; then it is distributed as agreed."""
    script = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja
/som fatima.ali
/inte-vårt GFI-2026-0001 "Gäller socialtjänstens boendestöd"
/kö
/fördela GFI-2026-0001 linnea.fors
/avsluta GFI-2026-0001 "inte vår målgrupp"
/avsluta GFI-2026-0001 inte-vår-målgrupp
/som helena.ros
/enig GFI-2026-0001 "Beroendemottagningen tar ärendet"
/som carina.berg
/enig GFI-2026-0001
/som fatima.ali
/kö
/fördela GFI-2026-0001 linnea.fors
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    queue = reply_to(out, "@fatima.ali> /kö")
    assert "Tvist: bestridet av Fatima Ali mån 23 nov 2026 kl. 10:00; fördelas inte förrän tvisten är avgjord." in queue
    assert "/fördela GFI-2026-0001" not in queue  # not offered for assignment
    assert "fördelas inte förrän tvisten om vems ärendet är har avgjorts" in reply_to(
        out, "@fatima.ali> /fördela GFI-2026-0001 linnea.fors")
    for closing in ('/avsluta GFI-2026-0001 "inte vår målgrupp"', "/avsluta GFI-2026-0001 inte-vår-målgrupp"):
        assert "avgörs i en tvist, inte genom att avsluta ärendet" in reply_to(out, f"@fatima.ali> {closing}")
    after = out.split("@carina.berg> /enig GFI-2026-0001")[1]
    assert "Överenskommelse registrerad av Helena Ros och Carina Berg" in after
    queue_after = reply_to(after, "@fatima.ali> /kö")
    assert "Tvist:" not in queue_after and "Fördela: /fördela GFI-2026-0001" in queue_after
    assert "GFI-2026-0001 är fördelat till Linnea Fors" in reply_to(after, "@fatima.ali> /fördela GFI-2026-0001")


def test_the_distributors_who_work_on_a_case_read_it(tmp_path: Path) -> None:
    """Item 7: the distributor who assigned a case reads it while it is open; the distributor asked to name who
    attends the meeting reads it until someone is named; the deputy who did neither sees nothing."""
    script = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja omfattar=psykiatri
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/visa GFI-2026-0001
/som linnea.fors
/kvittera GFI-2026-0001
/boka GFI-2026-0001 2026-11-30T10:00 plats="Rum 3" enheter=beroende,soc-norr,psykiatri
/som ingrid.vik
/visa GFI-2026-0001
/utse GFI-2026-0001 yusuf.kaya
/som gustav.lund
/visa GFI-2026-0001
/som linnea.fors
/avsluta GFI-2026-0001 avböjde
/som fatima.ali
/visa GFI-2026-0001
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    assigned = reply_to(out, "@fatima.ali> /visa GFI-2026-0001")
    assert "Kort: man, 45 år, alkohol" in assigned and "Fördelat till: Linnea Fors" in assigned
    asked = reply_to(out, "@ingrid.vik> /visa GFI-2026-0001")
    assert "Kort: man, 45 år, alkohol" in asked and "utses av verksamhetens fördelare" in asked
    assert "Hittar inget ärende" in reply_to(out, "@gustav.lund> /visa GFI-2026-0001")
    closed = out.split("@linnea.fors> /avsluta GFI-2026-0001 avböjde")[1]
    assert "Hittar inget ärende" in reply_to(closed, "@fatima.ali> /visa GFI-2026-0001")  # closed: not any more
