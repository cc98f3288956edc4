"""A large, valid directory for benchmarks and scale tests: `units` units and `people` people (about ten a unit),
two principals, real names and roles, Slack and Microsoft 365 people mixed (issue #23 item 7: 10⁵ people and
10⁴ units).

`write_directory(path, units=..., people=...)` writes the YAML file the bot reads (`GFI_DIRECTORY`); the data are
the same every time (no randomness), so figures are comparable from run to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FIRST = ["Anna", "Bo", "Carina", "David", "Eva", "Fatima", "Gustav", "Helena", "Ingrid", "Jonas", "Karl", "Lena",
         "Maria", "Nils", "Omar", "Petra", "Sara", "Yusuf", "Åsa", "Örjan"]
LAST = ["Lind", "Ek", "Berg", "Nord", "Ström", "Ali", "Lund", "Ros", "Vik", "Sjö", "Dahl", "Mark", "Sand", "Alm",
        "Haddad", "Holm", "Kaya", "Öberg", "Åkesson", "Fors"]
DAYS = [["måndag", "onsdag"], ["tisdag", "torsdag"], ["tisdag", "fredag"], ["måndag", "torsdag"]]


def person_id(n: int) -> str:
    return f"p{n:06d}"


def coordinator(u: int, units: int, people: int) -> str:
    """The coordinator on unit u's ladder: the third person of the first unit of its hundred."""
    n = 2 * units + (u // 100) * 100
    return person_id(n if n < people else people - 1)


def directory_data(units: int, people: int) -> dict[str, Any]:
    """The directory as data: unit u has people u, u + units, u + 2·units, …; its first person distributes,
    its second is the deputy; every hundredth unit's third person is a coordinator, on the ladder of the hundred units
from it (the last person too, so that a small directory has one)."""
    principals = [{"id": "kommun", "name": "Storstads kommun", "kind": "kommun"},
                  {"id": "region", "name": "Region Storstad", "kind": "region", "sip_support_name": "Mina planer"}]
    unit_rows = []
    for u in range(units):
        deputy = u + units if u + units < people else None
        unit: dict[str, Any] = {
            "id": f"enhet-{u:05d}", "name": f"{'Socialtjänst' if u % 2 else 'Vårdenhet'} {u:05d}",
            "principal": "kommun" if u % 2 else "region", "phone": f"010-{u:05d} 00",
            "distributors": [person_id(u)],
            "ladder": [{"title": "samordnare", "people": [coordinator(u, units, people)], "business_days": 1}],
            "distribution": {"days": DAYS[u % len(DAYS)], "time": "09:00"},
        }
        if deputy is not None:
            unit["deputy"] = person_id(deputy)
        unit_rows.append(unit)
    people_rows = []
    for n in range(people):
        u = n % units
        roles = ["distributor", "staff"] if n < units else ["staff"]
        if (n // units == 2 and u % 100 == 0) or n == people - 1:
            roles = ["coordinator"]
        row: dict[str, Any] = {
            "id": person_id(n), "name": f"{FIRST[n % 20]} {LAST[(n // 20) % 20]} {n}",
            "unit": f"enhet-{u:05d}", "title": "enhetschef" if n < units else "handläggare", "roles": roles,
            "email": f"{person_id(n)}@storstad.example.se",
        }
        if n % 2:
            row["slack_user_id"] = f"U{n:08d}"
        else:
            row["channel"] = "m365"
        people_rows.append(row)
    return {"principals": principals, "units": unit_rows, "people": people_rows}


def write_directory(path: Path, *, units: int, people: int) -> Path:
    """Write the directory file; returns its path."""
    data = directory_data(units, people)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True,
                  sort_keys=False, width=1000)
    return path
