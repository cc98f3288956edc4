"""Brister i samverkan in the console: file, see who is told, work the report, list, and the draft from the
ladder completed by the coordinator."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

SCRIPT = """\
/brist enheter=soc-norr,beroende orsaker=kommunikation,bemötande vad="Tre samtal blev obesvarade." ref=GFI-2026-0009
/brist enheter=soc-norr orsaker=rutiner vad="Gäller 19121212-1212."
/brist enheter=soc-norr vad="Saknar orsak."
/brister
/som fatima.ali
/brister
/visa BRIST-2026-0001
/åtgärd BRIST-2026-0001 "Vi har infört en funktionsbrevlåda."
/dialog BRIST-2026-0001 "Parterna träffades och gick igenom rutinen."
/stäng BRIST-2026-0001
/som ingrid.vik
/visa BRIST-2026-0001
/som jonas.sjo
/brister 2026 beroende
/stang BRIST-2026-0001
/visa brist-2026-0001
/hjälp
"""


def test_filing_and_working_a_report(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", SCRIPT)
    assert "→ @maria.sand: Din rapport om brist i samverkan är registrerad: BRIST-2026-0001." in out
    assert "→ @fatima.ali: Ny rapport om brist i samverkan från Maria Sand" in out
    assert "→ @anna.lind: Ny rapport om brist i samverkan från Maria Sand" in out
    assert "→ @maria.sand: Vad hände innehåller ett personnummer." in out and "1212-1212" not in out.split(
        "/brist enheter=soc-norr orsaker=rutiner")[1].split("\n", 1)[1]
    assert "BRIST-2026-0002" not in out  # nothing stored for the rejected ones
    assert "→ @maria.sand: Orsaker måste fyllas i." in out
    assert "→ @maria.sand: Rapporter om brister i samverkan (1):" in out  # the one she filed (issue #18 item 13)
    assert "→ @fatima.ali: Rapporter om brister i samverkan (1):" in out
    # GFI-2026-0009 does not exist: nobody but the reporter may learn anything about it, so it is left out
    assert "GFI-2026-0009" not in out.split("@maria.sand> /brist enheter=soc-norr orsaker=rutiner")[1]
    assert "→ @fatima.ali: Åtgärderna i BRIST-2026-0001 är registrerade." in out
    assert "→ @jonas.sjo: Fatima Ali har registrerat åtgärder i BRIST-2026-0001." in out
    assert "rapporten är nu dialog hållen" in out
    assert "→ @fatima.ali: Bara samordnare kan stänga rapporten." in out
    assert "→ @ingrid.vik: Hittar ingen rapport om brist i samverkan med referensen BRIST-2026-0001." in out
    assert "→ @jonas.sjo: Rapporter om brister i samverkan 2026 som nämner Beroendemottagningen Åstad (1):" in out
    assert "→ @jonas.sjo: BRIST-2026-0001 är stängd." in out
    assert "→ @anna.lind: Jonas Sjö har stängt rapporten BRIST-2026-0001." in out
    history = out.split("→ @jonas.sjo: BRIST-2026-0001 – stängd")[1]
    for line in ("Maria Sand  Rapport lämnad", "Fatima Ali  Åtgärder registrerade",
                 "Fatima Ali  Dialogens resultat registrerat",
                 "Fatima Ali  Försökte stänga rapporten (nekades – saknar behörighet)",
                 "Jonas Sjö  Rapporten stängd"):
        assert line in history
    assert "/brist enheter=<enhet>,<enhet>" in out and "/avfärda <nr>" in out  # in the help


DRAFT = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/tid 2026-12-01T12:00
/som jonas.sjo
/utkast
/utkast 1
/skickain 1 orsaker=kommunikation,rutiner atgarder="Ersättare utsedd för fördelningen."
/utkast 1
/avfärda 1 "Dubblett"
/brister
"""


def test_the_ladder_draft_is_completed_by_the_coordinator(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", DRAFT)
    assert "Ett utkast till rapport om brist i samverkan har skapats (utkast 1)" in out
    assert "→ @jonas.sjo: Utkast till rapporter om brist i samverkan (1):" in out
    assert "- utkast 1: GFI-2026-0001 (Socialtjänst Norr, vuxen/missbruk; Beroendemottagningen Åstad)" in out
    view = out.split("@jonas.sjo> /utkast 1\n")[1]
    assert view.startswith("→ @jonas.sjo: Utkast 1 – utkast")
    assert "Föreslagen orsak: kommunikation/information" in view
    assert "Vad hände: Kvittering av fördelat ärende väntade sedan" in view
    assert "alkohol" not in view.split("@jonas.sjo> /skickain")[0]  # the brief is never in the draft
    assert "→ @jonas.sjo: Din rapport om brist i samverkan är registrerad: BRIST-2026-0001." in out
    assert "→ @fatima.ali: Ny rapport om brist i samverkan från Jonas Sjö" in out
    assert "→ @jonas.sjo: Utkast 1 – inskickat" in out
    assert "→ @jonas.sjo: Utkast 1 är redan inskickat." in out
    assert "- BRIST-2026-0001  tor 26 nov 2026  inskickad, dialog ska hållas" in out
    assert "Orsaker: kommunikation/information, rutiner" in out
