"""The directory's `samverkan` section: for each pair of principals (kommun and region), the samverkansgrupp or
lokalt samråd that takes the questions the line organisations did not settle (seed 001: "vid tvister av mer
principiell karaktär lyfts ärendet till närmaste samverkansnivå"), and its contact people.

    samverkan:
      - id: samverkan-astad
        name: Samverkansgruppen psykiatri och missbruk, Åstad
        kind: samverkansgrupp          # samverkansgrupp | lokalt-samrad
        principals: [astad, region-sydvast]
        contacts: [sara.holm, jonas.sjo]

The section is optional (a directory without it is valid); a matter then stays with the coordinators.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SamverkanKind(StrEnum):
    GROUP = "samverkansgrupp"
    LOCAL = "lokalt-samrad"  # lokalt samråd


class SamverkanGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    kind: SamverkanKind = SamverkanKind.GROUP
    principals: tuple[str, ...] = Field(min_length=2)
    contacts: tuple[str, ...] = Field(min_length=1)


def check_groups(groups: Iterable[SamverkanGroup], principal_ids: set[str], person_ids: set[str]) -> list[
        tuple[str, str, dict[str, Any]]]:
    """Problems of the section as (YAML path, directory.j2 macro, params): unknown principals or people, a
    repeated id, or two groups for the same principals."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    pairs: set[frozenset[str]] = set()
    for i, group in enumerate(groups):
        base = f"samverkan[{i}]"
        if group.id in seen:
            out.append((f"{base}.id", "duplicate_id", {"id": repr(group.id)}))
        seen.add(group.id)
        for j, principal in enumerate(group.principals):
            if principal not in principal_ids:
                out.append((f"{base}.principals[{j}]", "unknown_principal", {"id": repr(principal)}))
        for j, pid in enumerate(group.contacts):
            if pid not in person_ids:
                out.append((f"{base}.contacts[{j}]", "unknown_person", {"id": repr(pid)}))
        key = frozenset(group.principals)
        if key in pairs:
            out.append((f"{base}.principals", "samverkan_pair_twice", {}))
        pairs.add(key)
    return out


def group_for(groups: Iterable[SamverkanGroup], principals: set[str]) -> SamverkanGroup | None:
    """The group for these principals (at least two: a question within one principal stays in its own line
    organisation): one naming all of them, the one naming the fewest others first; None when none does."""
    if len(principals) < 2:
        return None
    found = [g for g in groups if principals <= set(g.principals)]
    return min(found, key=lambda g: len(g.principals)) if found else None
