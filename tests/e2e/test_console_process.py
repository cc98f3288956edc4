"""Issue #10 (items 1, 5, 8, 10, 11) driven through the console: the GFI process as the handbook means it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

SAME_PRINCIPAL = """\
/gfi enhet=soc-soder typ=pågående kort="man, 45 år, känd i båda socialtjänsterna" samtycke=ja
/gfi enhet=beroende typ=pagaende kort="man, 45 år, insatser hos båda huvudmännen" samtycke=ja
"""


def test_pagaende_is_a_gfi_within_one_principal_and_sip_between_principals(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", SAME_PRINCIPAL)
    # soc-norr and soc-soder are both Åstads kommun: a GFI is filed
    assert "→ @maria.sand: Din GFI-förfrågan är registrerad: GFI-2026-0001." in out
    assert "Typ: pågående/känd i båda verksamheterna" in out
    # soc-norr (kommun) and beroende (region): SIP has precedence, in the region's own IT support
    assert "möte för upprättande av SIP alltid företräde" in out
    assert "(kallelse i Lifecare SP)" in out and "Mina planer" not in out
    assert "GFI-2026-0002" not in out


TO_MEETING = """\
/gfi enhet=beroende typ=ny-båda kort="kvinna, 30 år" samtycke=ja
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/som linnea.fors
/kvittera GFI-2026-0001
/avsluta GFI-2026-0001 genomförd
/boka GFI-2026-0001 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,beroende
/tid 2026-11-30T15:00
/utfall GFI-2026-0001 lotsning utvärdering=ja
/avsluta GFI-2026-0001 genomförd
/avsluta GFI-2026-0001 genomförd nykontakt=nej
/avsluta GFI-2026-0001 genomförd nykontakt=ja
/visa GFI-2026-0001
"""


def test_completed_needs_an_outcome_and_after_lotsning_the_new_contact(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", TO_MEETING)
    before, after = out.split("Klockan är nu mån 30 nov 2026 kl. 15:00.")
    assert ("GFI-2026-0001 kan inte avslutas som genomfört innan mötets utfall är registrerat. "
            "Registrera utfallet först") in before
    assert "Utfallet i GFI-2026-0001 är lotsning. Är den nya kontakten igång" in after
    assert "Användning: /avsluta <ref> genomförd|sip-vid-gfi|sip|svu|ej-aktuellt|avböjde" in after
    assert "GFI-2026-0001 avslutas först när den nya kontakten är igång och fungerar." in after
    assert after.count("är avslutat av Linnea Fors: genomfört.") == 1  # only the last one closed it
    assert "GFI-2026-0001 – avslutad" in after


SIP_AT_GFI = """\
/gfi enhet=beroende typ=ny-en kort="man, 50 år" samtycke=ja
/gfi enhet=beroende typ=ny-en kort="kvinna, 40 år" samtycke=ja
/som fatima.ali
/avsluta GFI-2026-0002 sip
/fördela GFI-2026-0001 linnea.fors
/som linnea.fors
/kvittera GFI-2026-0001
/boka GFI-2026-0001 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,beroende
/tid 2026-11-30T15:00
/utfall GFI-2026-0001 sip utvardering=ja
/avsluta GFI-2026-0001 sip-vid-gfi
"""


def test_close_reasons_tell_a_sip_made_at_the_gfi_from_a_referral(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", SIP_AT_GFI)
    assert "Skriv in i Lifecare SP att SIP upprättats vid GFI" in out
    assert "→ @maria.sand: GFI-2026-0001 är avslutat av Linnea Fors: SIP upprättad vid GFI." in out
    assert "→ @maria.sand: GFI-2026-0002 är avslutat av Fatima Ali: hänvisat till SIP-möte." in out


CHILDREN = """\
/gfi enhet=beroende typ=ny-en kort="kvinna, 35 år, två barn hemma" samtycke=ja barn=ja
/gfi enhet=psykiatri typ=ny-en kort="man, 60 år" samtycke=ja barn=nej
/gfi enhet=psykiatri typ=ny-en kort="man, 61 år" samtycke=ja barn=kanske
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/som linnea.fors
/kvittera GFI-2026-0001
/boka GFI-2026-0001 2026-12-07T13:00 plats="Rum 3" enheter=soc-norr,beroende
/som ingrid.vik
/fördela GFI-2026-0002 yusuf.kaya
/som yusuf.kaya
/kvittera GFI-2026-0002
/boka GFI-2026-0002 2026-12-07T14:00 plats="Rum 4" enheter=soc-norr,psykiatri
/tid 2026-12-04T12:00
"""


def test_children_affected_adds_the_barnperspektiv_to_the_checklist(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", CHILDREN)
    assert '"kanske" är inget giltigt val. Välj ja, nej eller vet ej.' in out
    with_children = out.split("→ @linnea.fors: Förbered GFI-mötet i GFI-2026-0001")[1].split("→ @")[0]
    without = out.split("→ @yusuf.kaya: Förbered GFI-mötet i GFI-2026-0002")[1].split("→ @")[0]
    for checklist in (with_children, without):
        assert "Vet den enskilde vem som kommer till mötet och varför?" in checklist
        assert "Är rätt verksamheter inbjudna" in checklist
    assert "Barn berörs: ja" in with_children and "barnets perspektiv" in with_children
    assert "Barn berörs: nej" in without and "barnets perspektiv" not in without
    # the duty to report is told at assignment (issue #18 item 5), not in the checklist
    assert "orosanmälan" not in with_children
    assigned = out.split("→ @linnea.fors: Fatima Ali har fördelat GFI-2026-0001 till dig.")[1].split("→ @")[0]
    assert "Barn berörs: ja" in assigned and "skyldiga att genast göra en orosanmälan" in assigned


URGENT = """\
/gfi enhet=soc-soder typ=ny-en kort="man, 45 år, akut bostadslös" samtycke=ja brådskande
/tid 2026-11-24T10:00
/gfi enhet=soc-soder typ=ny-en kort="man, 46 år" samtycke=ja brådskande
"""


def test_urgent_out_of_office_hours_names_the_after_hours_contact(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", URGENT, person="linnea.fors", now="2026-11-23T19:30")
    evening, morning = out.split("Klockan är nu tis 24 nov 2026 kl. 10:00.")
    assert "Socialtjänst Söder, vuxen/missbruk har stängt nu (kontorstid 08:00–17:00 vardagar)." in evening
    assert "den kan bli läst först när verksamheten öppnar, tis 24 nov 2026 kl. 08:00." in evening
    assert "Kan det inte vänta: kontakta Socialjouren Åstad, 0450-12 39 99." in evening
    assert "har fått förfrågan direkt" not in evening
    # inside office hours the distributors have it at once, and no after-hours number is given
    assert "har fått förfrågan direkt" in morning and "Socialjouren" not in morning


SWEDISH = """\
/gfi enhet=psykiatri typ=ny-bada kort="man, 40 år" samtycke=ja
/gfi enhet=beroende typ=ny-båda kort="kvinna, 30 år" samtycke=ja
/gfi enhet=beroende typ=okänd kort="kvinna, 31 år" samtycke=ja
/som fatima.ali
/fördela GFI-2026-0002 linnea.fors fatima.ali
/som linnea.fors
/kvittera GFI-2026-0002
/boka GFI-2026-0002 2026-11-30T13:00 plats="Rum 3" enheter=soc-norr,beroende
/tid 2026-11-30T15:00
/utfall GFI-2026-0002 kartläggning utvärdering=ja
/utfall GFI-2026-0002 utredning utvärdering=ja
/som maria.sand
/avsluta GFI-2026-0001 avböjde
/visa GFI-2026-0002
/hjälp
"""


def test_swedish_spellings_are_accepted_and_shown(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", SWEDISH)
    assert "Din GFI-förfrågan är registrerad: GFI-2026-0001." in out  # ASCII still works
    assert "Din GFI-förfrågan är registrerad: GFI-2026-0002." in out
    assert 'Okänd ärendetyp "okänd". Välj ny-båda, ny-en, pågående eller svu.' in out
    assert "Utfall för GFI-2026-0002: gemensam kartläggning/utredning." in out
    assert '"utredning" är inget giltigt val. Välj lotsning, kartläggning, sip, aktualiseras eller ingen.' in out
    assert "GFI-2026-0001 är avslutat av Maria Sand: den enskilde avböjde." not in out  # not to herself
    # the assignee is told by the distributor; the distributor is not told of her own act
    assert "→ @linnea.fors: Fatima Ali har fördelat GFI-2026-0002 till dig." in out
    assert "→ @fatima.ali: Fatima Ali har fördelat" not in out
    history = out.split("Historik:")[1]
    for line in ("Maria Sand  Förfrågan registrerad", "Fatima Ali  Fördelat", "Linnea Fors  Kvitterat",
                 "Linnea Fors  Möte bokat", "Linnea Fors  Utfall registrerat"):
        assert line in history
    assert "typ=ny-båda|ny-en|pågående|svu" in out and "kartläggning" in out.split("/utfall <ref>")[1]
