"""Who is added, moved and removed between two directories, and who in the old one's units' roles leaves."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.directory.model import DirectoryFile, Person


@dataclass(frozen=True)
class Move:
    person: Person  # as in the new directory
    old_unit: str


@dataclass
class Changes:
    added: list[Person] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    removed: list[Person] = field(default_factory=list)  # as in the old directory
    updated: list[Person] = field(default_factory=list)  # same unit, another name, title, address or role

    @property
    def leaving(self) -> dict[str, str]:
        """Person id -> the unit they leave (removed or moved away)."""
        out = {p.id: p.unit for p in self.removed}
        out.update({m.person.id: m.old_unit for m in self.moved})
        return out

    def __bool__(self) -> bool:
        return bool(self.added or self.moved or self.removed or self.updated)


def diff(old: DirectoryFile, new: DirectoryFile) -> Changes:
    before = {p.id: p for p in old.people}
    after = {p.id: p for p in new.people}
    changes = Changes()
    for pid, person in after.items():
        was = before.get(pid)
        if was is None:
            changes.added.append(person)
        elif was.unit != person.unit:
            changes.moved.append(Move(person, was.unit))
        elif was != person:
            changes.updated.append(person)
    changes.removed = [p for pid, p in before.items() if pid not in after]
    return changes
