"""Merging people from an HR export or Entra ID into the directory (`gfi-bot directory import|sync`).

The source covers some units (those named in its rows, or the groups it was asked about). People of those
units are replaced by the source's; people of other units, the principals and the units themselves
(distributors, ladders, days) stay as the organisation wrote them. A person is recognised by id, else by
e-mail or UPN, so that what the source does not carry (Slack id, channel, roles) is kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.directory.model import Channel, DirectoryFile, Person, Role


@dataclass(frozen=True)
class Incoming:
    """One person as the source gives them (None: the source does not say)."""

    unit: str
    name: str
    email: str | None = None
    upn: str | None = None
    title: str | None = None
    phone: str | None = None
    person_id: str | None = None
    manager: str | None = None  # the line manager's id, e-mail or UPN
    roles: tuple[Role, ...] | None = None
    slack_user_id: str | None = None
    channel: Channel | None = None

    def keys(self) -> list[str]:
        return [k.lower() for k in (self.email, self.upn) if k]


_NOT_ID = re.compile(r"[^a-z0-9._-]+")


def clean(text: str) -> str:
    """A name or title from a source: control and format characters out, runs of whitespace one space."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return " ".join(kept.split())


def derive_id(incoming: Incoming, taken: set[str]) -> str:
    """A readable id for a new person: the e-mail's local part (or the name) in a-z, 0-9, `.`, `-`."""
    base = (incoming.email or incoming.upn or "").split("@")[0] or incoming.name.replace(" ", ".")
    ascii_only = unicodedata.normalize("NFKD", base.lower()).encode("ascii", "ignore").decode()
    slug = _NOT_ID.sub("-", ascii_only).strip(".-_") or "person"
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def merge(current: DirectoryFile, incoming: list[Incoming], scope: set[str],
          default_channel: Channel = Channel.M365) -> DirectoryFile:
    """The directory with the people of the `scope` units replaced by `incoming` (the first of duplicates)."""
    by_id = {p.id: p for p in current.people}
    by_key = {k.lower(): p for p in current.people for k in (p.email, p.m365_upn) if k}
    chosen: dict[str, Person] = {}
    pending: list[tuple[Incoming, Person | None]] = []
    for item in incoming:
        known = by_id.get(item.person_id or "") or next((by_key[k] for k in item.keys() if k in by_key), None)
        pending.append((item, known))
    taken = {p.id for p in current.people}
    ids: list[str] = []
    for item, known in pending:
        if known is not None:
            ids.append(known.id)
        else:
            new_id = item.person_id or derive_id(item, taken)
            taken.add(new_id)
            ids.append(new_id)
    key_to_id = {k: pid for (item, _), pid in zip(pending, ids, strict=True) for k in item.keys()}
    key_to_id.update({k.lower(): p.id for p in current.people for k in (p.email, p.m365_upn) if k})
    for (item, known), pid in zip(pending, ids, strict=True):
        if pid in chosen:
            continue
        manager = None
        if item.manager:
            manager = item.manager if item.manager in by_id or item.manager in ids else key_to_id.get(
                item.manager.lower())
        fields: dict[str, object] = {"name": clean(item.name) or pid, "unit": item.unit, "manager": manager}
        for name, value in (("email", item.email), ("m365_upn", item.upn), ("title", clean(item.title or "") or None),
                            ("phone", item.phone), ("roles", item.roles), ("slack_user_id", item.slack_user_id),
                            ("channel", item.channel)):
            if value is not None:
                fields[name] = value
        if known is not None:
            chosen[pid] = known.model_copy(update=fields)
        else:
            fields.setdefault("channel", default_channel)
            chosen[pid] = Person.model_validate({"id": pid, **fields})
    people: list[Person] = []
    for person in current.people:  # the file's order first, then the new people in the source's order
        if person.id in chosen:
            people.append(chosen.pop(person.id))
        elif person.unit not in scope:
            people.append(person)
    people.extend(chosen.values())
    return current.model_copy(update={"people": tuple(people)})
