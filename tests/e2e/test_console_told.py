"""Nobody left wondering (issue #18 items 12 and 13), from the console with the handbook's people: the requester
is told when her request climbs the ladder and who took it over; a distributor reminded to answer is told when
someone else did; whoever filed a brist report reads it and is told when it is closed, with the measures."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console
from tests.e2e.test_console_disputes_agreed import reply_to


def test_the_requester_follows_her_request_up_the_ladder_and_the_reminded_distributor_is_told(
        tmp_path: Path) -> None:
    """Item 12: nobody distributes Maria's request by Tuesday's slot + 4 hours; the verksamhetschef is alerted,
    reminds the distributor, then takes over and distributes it herself."""
    script = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja
/tid 2026-11-24T13:30
/som helena.ros
/eskaleringar
/påminn 1
/taöver 1
/fördela GFI-2026-0001 linnea.fors
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    climbed = reply_to(out, "@maria.sand> /tid 2026-11-24T13:30")
    told = climbed.split("→ @maria.sand: ", 1)[1]
    assert told.startswith("Din förfrågan GFI-2026-0001 har väntat på fördelning sedan mån 23 nov 2026 kl. 10:00")
    assert "Nu hos: Helena Ros (verksamhetschef psykiatri och beroende)." in told
    assert "man, 45 år" not in told  # the ladder's messages carry no free text
    listed = reply_to(out, "@helena.ros> /eskaleringar")
    assert "inget svar från Fatima Ali\n" in listed  # each line its own line
    taken = reply_to(out, "@helena.ros> /taöver 1")
    assert ("→ @maria.sand: Helena Ros (verksamhetschef psykiatri och beroende) har tagit över fördelning av din "
            "förfrågan GFI-2026-0001") in taken
    done = reply_to(out, "@helena.ros> /fördela GFI-2026-0001 linnea.fors")
    assert ("→ @fatima.ali: Du påmindes om fördelning i GFI-2026-0001. Det är nu gjort: ärendet är fördelat "
            "(Helena Ros)") in done
    assert "→ @gustav.lund" not in done  # the deputy was not reminded (Fatima was present)


def test_the_author_of_a_brist_report_reads_it_and_is_told_when_it_is_closed(tmp_path: Path) -> None:
    """Item 13: Maria files a report; she reads and lists it; when the coordinator closes it she is told, with the
    measures the unit recorded. Her colleague, who neither filed it nor distributes, still sees nothing."""
    script = """\
/brist enheter=soc-norr,beroende orsaker=kommunikation vad="Förfrågan om GFI-möte besvarades inte på två veckor"
/visa BRIST-2026-0001
/brister
/som fatima.ali
/åtgärd BRIST-2026-0001 "Ny rutin: ersättaren bevakar kön när enhetschefen är borta"
/som sara.holm
/stäng BRIST-2026-0001
/som omar.haddad
/visa BRIST-2026-0001
/brister
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    view = reply_to(out, "@maria.sand> /visa BRIST-2026-0001")
    assert "BRIST-2026-0001 – inskickad" in view and "Vad hände: Förfrågan om GFI-möte besvarades inte" in view
    assert "BRIST-2026-0001" in reply_to(out, "@maria.sand> /brister")
    closed = reply_to(out, "@sara.holm> /stäng BRIST-2026-0001")
    told = closed.split("→ @maria.sand: ", 1)[1].split("\n→", 1)[0]
    assert told.startswith("Sara Holm har stängt rapporten BRIST-2026-0001.")
    assert "Vidtagna åtgärder: Ny rutin: ersättaren bevakar kön när enhetschefen är borta" in told
    assert "Du lämnade rapporten." in told
    assert "Hittar ingen rapport om brist i samverkan" in reply_to(out, "@omar.haddad> /visa BRIST-2026-0001")
    assert "BRIST-2026-0001" not in reply_to(out, "@omar.haddad> /brister")
