"""A whole ladder watched from the console: /tid runs everything that falls due on the way."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import console

LADDER = """\
/gfi enhet=beroende typ=ny-en kort="man, 45 år, alkohol" samtycke=ja
/tid 2026-11-24T09:30
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/tid 2026-11-27T12:00
/som linnea.fors
/kvittera GFI-2026-0001
/tid 2026-11-27T13:00
"""


def test_console_shows_the_queue_the_climb_and_the_answer(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", LADDER, now="2026-11-23T10:00")
    lines = out.splitlines()

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    # Tuesday 09:00: the distributor gets the queue
    assert at("→ @fatima.ali: GFI-kö för Beroendemottagningen Åstad: 1 ärende att fördela") < at(
        "Klockan är nu tis 24 nov 2026 kl. 09:30")
    # assigned Tuesday 09:30; not acknowledged: Wednesday the distributor, Thursday the verksamhetschef,
    # Friday the coordinator with a brist-i-samverkan draft
    fatima = at("→ @fatima.ali: Ansvarstrappan (fördelare): GFI-2026-0001 väntar på kvittering")
    helena = at("→ @helena.ros: Ansvarstrappan (verksamhetschef): GFI-2026-0001")
    jonas = at("→ @jonas.sjo: Ansvarstrappan (psykiatrisamordnare): GFI-2026-0001")
    assert fatima < helena < jonas < at("Klockan är nu fre 27 nov 2026 kl. 12:00")
    assert "brist i samverkan" in "\n".join(lines[jonas:jonas + 6])
    # the acknowledgement stops the climb and everyone alerted is told
    ack = at("/kvittera GFI-2026-0001")
    for person in ("fatima.ali", "helena.ros", "jonas.sjo"):
        assert at(f"→ @{person}: Eskaleringen i GFI-2026-0001 är avslutad: ärendet är kvitterat") > ack


def test_console_completes_a_follow_up(tmp_path: Path) -> None:
    script = """\
/gfi enhet=beroende typ=ny-en kort="kvinna, 30 år" samtycke=ja
/som fatima.ali
/fördela GFI-2026-0001 linnea.fors
/som linnea.fors
/kvittera GFI-2026-0001
/boka GFI-2026-0001 2026-11-25T13:00 plats="Rum 3" enheter=soc-norr,beroende
/tid 2026-11-25T15:00
/utfall GFI-2026-0001 kartlaggning utvardering=ja
/uppföljning GFI-2026-0001 linnea.fors 2026-12-01 "Stämma av"
/tid 2026-12-01T09:00
/klar GFI-2026-0001 1
/klar GFI-2026-0001 x
/tid 2026-12-03T09:00
/hjälp
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    assert "→ @linnea.fors: I dag ska uppföljning 1 i GFI-2026-0001 vara klar" in out
    assert "→ @linnea.fors: Uppföljning 1 i GFI-2026-0001 är klar. Alla uppföljningar är gjorda" in out
    assert "Användning: /klar <ref> <nr>" in out
    assert "Ansvarstrappan (fördelare): GFI-2026-0001 väntar på uppföljning" not in out
    assert "/klar <ref> <nr>" in out  # in the help text
