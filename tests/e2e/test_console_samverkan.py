"""The samverkansnivå is somebody (issue #18 item 4), from the console with the handbook's people: the dispute over
a man with psychosis and an addiction reaches the coordinators; the kommun's samordnare hands it to the
samverkansgrupp named in the directory; its contact people are told, and the matter is tracked until the
decision is recorded."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console
from tests.e2e.test_console_disputes_agreed import DISPUTED, reply_to


def test_a_question_handed_to_the_samverkansgrupp_is_tracked_until_decided(tmp_path: Path) -> None:
    script = DISPUTED + """\
/tid 2026-11-24T11:00
/som sara.holm
/samverkan 4
/samverkan 4
/samverkansfrågor
/som jonas.sjo
/samverkansfrågor
/samverkansbeslut 1 "Kommunen ansvarar för boendestödet; psykiatrin behandlar psykosen"
/samverkansbeslut 1 "igen"
/samverkansfrågor
/som carina.berg
/samverkansbeslut 1 "försök"
/samverkansfrågor
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    taken = reply_to(out, "@sara.holm> /samverkan 4")
    assert "Den har lämnats till Samverkansgruppen psykiatri och missbruk, Åstad som fråga 1" in taken
    # the group's other contact person is told (summary only: never the reason or the brief)
    told = taken.split("→ @jonas.sjo: ", 1)[1]
    assert told.startswith("Fråga till Samverkansgruppen psykiatri och missbruk, Åstad: Sara Holm (samordnare) har "
                           "tagit upp GFI-2026-0001 på samverkansnivå (fråga 1).")
    assert "Missbruket" not in told and "psykos" not in told
    # taking it up again hands over nothing new: one matter while it is open
    again = out.split("@sara.holm> /samverkan 4", 2)[2]
    assert "som fråga 1" in again.split("\n@", 1)[0] and "fråga 2" not in out
    assert "- fråga 1: GFI-2026-0001 hos Samverkansgruppen psykiatri och missbruk, Åstad, upptagen av Sara Holm " \
           "tis 24 nov 2026 kl. 11:00 – öppen\n" in reply_to(out, "@jonas.sjo> /samverkansfrågor")
    decided = reply_to(out, '@jonas.sjo> /samverkansbeslut 1 "Kommunen')
    assert "Beslutet i fråga 1 (GFI-2026-0001) är registrerat och frågan är hanterad" in decided
    assert "→ @sara.holm: Samverkansgruppen psykiatri och missbruk, Åstad har fattat beslut i frågan om " \
           "GFI-2026-0001 (fråga 1); registrerat av Jonas Sjö." in decided
    # those in the case read the decision; the requester too
    maria = decided.split("→ @maria.sand: ", 1)[1].split("\n→", 1)[0]
    assert "Beslut: Kommunen ansvarar för boendestödet; psykiatrin behandlar psykosen" in maria
    assert "Fråga 1 är redan hanterad: Jonas Sjö registrerade beslutet" in reply_to(
        out, '@jonas.sjo> /samverkansbeslut 1 "igen"')
    listed = out.split('@jonas.sjo> /samverkansbeslut 1 "igen"')[1]
    assert "– hanterad av Jonas Sjö tis 24 nov 2026 kl. 11:00. Beslut: Kommunen ansvarar" in reply_to(
        listed, "@jonas.sjo> /samverkansfrågor")
    # a line manager who is not a contact person records nothing and lists nothing
    refused = reply_to(out, "@carina.berg> /samverkansbeslut 1")
    assert "Hittar ingen fråga på samverkansnivå med nummer 1" in refused and "Se /samverkansfrågor." in refused
    assert "Inga frågor på samverkansnivå för dig." in reply_to(out, "@carina.berg> /samverkansfrågor")


def test_without_a_group_in_the_directory_the_question_stays_with_the_coordinators(tmp_path: Path) -> None:
    """Two region units: the directory names no group for the region alone."""
    script = """\
/som yusuf.kaya
/gfi enhet=beroende typ=ny-en kort="man, 30 år" samtycke=ja
/som fatima.ali
/inte-vårt GFI-2026-0001 "Gäller psykiatrin"
/tid 2026-11-24T11:00
/som jonas.sjo
/samverkan 2
/samverkansfrågor
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    taken = reply_to(out, "@jonas.sjo> /samverkan 2")
    assert "Katalogen anger ingen samverkansgrupp för huvudmännen; frågan stannar hos samordnarna." in taken
    assert "→ @sara.holm" not in taken  # the kommun's coordinator is not told about a question within the region
    assert "Inga frågor på samverkansnivå för dig." in reply_to(out, "@jonas.sjo> /samverkansfrågor")
