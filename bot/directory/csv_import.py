"""Reading an HR export (`gfi-bot directory import --csv FILE`).

UTF-8 with or without a byte-order mark (Excel writes one), separated by `;` (Swedish Excel) or `,`. The
first row names the columns, in Swedish or English, in any order and case:

| column                | required | meaning                                                             |
|-----------------------|----------|---------------------------------------------------------------------|
| `namn` / `name`       | yes      | the person's name                                                   |
| `enhet` / `unit`      | yes      | the unit's id or name as in the directory                           |
| `epost` / `email`     | one of   | e-mail address (also how a person already in the directory is found) |
| `upn` / `m365_upn`    | these    | Microsoft 365 sign-in name                                          |
| `id`                  | no       | the person's id in the directory (else found by address, or made)    |
| `titel` / `title`     | no       | job title                                                           |
| `telefon` / `phone`   | no       | phone number                                                        |
| `chef` / `manager`    | no       | the line manager's id or e-mail                                     |
| `roller` / `roles`    | no       | roles separated by spaces or `|` (staff, distributor, ...)          |
| `slack` / `slack_user_id` | no   | Slack member id                                                     |
| `kanal` / `channel`   | no       | slack, m365, teams, email or console                                |

An empty cell means "not given": what the directory already has is kept.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bot import texts
from bot.directory.merge import Incoming
from bot.directory.model import Channel, DirectoryFile, DirectoryProblem, Role

COLUMNS: dict[str, str] = {
    "namn": "name", "name": "name", "enhet": "unit", "unit": "unit", "epost": "email", "e-post": "email",
    "email": "email", "mail": "email", "upn": "upn", "m365_upn": "upn", "id": "id", "titel": "title",
    "title": "title", "telefon": "phone", "phone": "phone", "chef": "manager", "manager": "manager",
    "roller": "roles", "roles": "roles", "slack": "slack", "slack_user_id": "slack", "kanal": "channel",
    "channel": "channel",
}


def _say(name: str, **params: Any) -> str:
    return texts.text("directory", name, **params)


def _delimiter(header: str) -> str:
    return ";" if header.count(";") >= header.count(",") else ","


def read_csv(path: Path, current: DirectoryFile) -> tuple[list[Incoming], set[str], list[DirectoryProblem]]:
    """The people of the export, the units it covers, and every problem with its line (none: use it)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return [], set(), [DirectoryProblem(path=_say("the_file"), reason=_say("unreadable", reason=exc.strerror))]
    except UnicodeDecodeError:
        return [], set(), [DirectoryProblem(path=_say("the_file"), reason=_say("csv_not_utf8"))]
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    rows = list(reader)
    if not rows:
        return [], set(), [DirectoryProblem(path=_say("the_file"), reason=_say("csv_empty"))]
    header = [c.strip().lower() for c in rows[0]]
    problems: list[DirectoryProblem] = []
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown:
        problems.append(DirectoryProblem(path=_say("csv_header"), reason=_say("csv_unknown_columns",
                                         columns=", ".join(unknown)), line=1))
    fields = [COLUMNS.get(c, "") for c in header]
    missing = [c for c in ("name", "unit") if c not in fields]
    if missing or not ({"email", "upn"} & set(fields)):
        problems.append(DirectoryProblem(path=_say("csv_header"), reason=_say("csv_missing_columns"), line=1))
        return [], set(), problems
    units = {u.id: u.id for u in current.units} | {u.name.lower(): u.id for u in current.units}
    people: list[Incoming] = []
    scope: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {f: (row[i].strip() if i < len(row) else "") for i, f in enumerate(fields) if f}
        item, problem = _person(cells, units, number)
        if problem is not None:
            problems.append(problem)
        elif item is not None:
            people.append(item)
            scope.add(item.unit)
    return people, scope, problems


def _person(cells: dict[str, str], units: dict[str, str], line: int) -> tuple[Incoming | None, DirectoryProblem | None]:
    where = _say("csv_row", line=line)

    def bad(reason: str) -> tuple[None, DirectoryProblem]:
        return None, DirectoryProblem(path=where, reason=reason, line=line)

    if not cells.get("name"):
        return bad(_say("csv_no_name"))
    unit = units.get(cells.get("unit", "")) or units.get(cells.get("unit", "").lower())
    if unit is None:
        return bad(_say("unknown_unit", id=repr(cells.get("unit", ""))))
    if not (cells.get("email") or cells.get("upn")):
        return bad(_say("csv_no_address"))
    roles: tuple[Role, ...] | None = None
    if cells.get("roles"):
        try:
            roles = tuple(Role(r) for r in cells["roles"].replace("|", " ").split())
        except ValueError:
            return bad(_say("csv_bad_roles", roles=repr(cells["roles"])))
    channel: Channel | None = None
    if cells.get("channel"):
        try:
            channel = Channel(cells["channel"].lower())
        except ValueError:
            return bad(_say("csv_bad_channel", channel=repr(cells["channel"])))
    return Incoming(
        unit=unit, name=cells["name"], email=cells.get("email") or None, upn=cells.get("upn") or None,
        title=cells.get("title") or None, phone=cells.get("phone") or None, person_id=cells.get("id") or None,
        manager=cells.get("manager") or None, roles=roles, slack_user_id=cells.get("slack") or None,
        channel=channel,
    ), None
