"""What the console scenarios of issue #18 share (tests/e2e/test_console_second_pass.py,
tests/e2e/test_console_handbook.py): the handbook's people, a request by Maria Sand (Socialtjänst Norr) to the
region's Beroendemottagningen about Folke, distributed by Fatima Ali to Linnea Fors, who acknowledges it; and
reading one part of the console's output."""

from __future__ import annotations

STANDARD = 'kort="man, 45 år" samtycke=ja barn=nej'


def acknowledged(request: str = STANDARD) -> str:
    """The script up to an acknowledged case GFI-2026-0001: `request` is the /gfi options after enhet= and typ=;
    the script ends as Linnea Fors (the one responsible)."""
    return (f"/gfi enhet=beroende typ=ny-en {request}\n"
            "/som fatima.ali\n"
            "/fördela GFI-2026-0001 linnea.fors\n"
            "/som linnea.fors\n"
            "/kvittera GFI-2026-0001\n")


def section(out: str, start: str, end: str | None = None) -> str:
    """The output from the line containing `start` up to (not including) the next line containing `end`."""
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if start in line)
    j = next((n for n, line in enumerate(lines[i + 1:], start=i + 1) if end and end in line), len(lines))
    return "\n".join(lines[i:j])
