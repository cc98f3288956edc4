"""The directory file's shape: principals, units, people, roles, ladders and distribution days (pydantic)."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot import texts
from bot.samverkan.groups import SamverkanGroup


def _say(name: str, **params: Any) -> str:
    """A directory problem in Swedish (`templates/messages/directory.j2`)."""
    return texts.text("directory", name, **params)


WEEKDAYS: dict[str, int] = {
    "måndag": 0,
    "mandag": 0,
    "mån": 0,
    "man": 0,
    "monday": 0,
    "mon": 0,
    "tisdag": 1,
    "tis": 1,
    "tuesday": 1,
    "tue": 1,
    "onsdag": 2,
    "ons": 2,
    "wednesday": 2,
    "wed": 2,
    "torsdag": 3,
    "tor": 3,
    "thursday": 3,
    "thu": 3,
    "fredag": 4,
    "fre": 4,
    "friday": 4,
    "fri": 4,
    "lördag": 5,
    "lordag": 5,
    "lör": 5,
    "saturday": 5,
    "sat": 5,
    "söndag": 6,
    "sondag": 6,
    "sön": 6,
    "sunday": 6,
    "sun": 6,
}
WEEKDAY_NAMES_SV = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class PrincipalKind(StrEnum):
    KOMMUN = "kommun"
    REGION = "region"


class Role(StrEnum):
    STAFF = "staff"
    DISTRIBUTOR = "distributor"
    SECTION_HEAD = "section_head"
    OPERATIONS_HEAD = "operations_head"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Channel(StrEnum):
    """A person's preferred channel. `m365` means Teams, falling back to e-mail when Teams cannot reach them."""

    SLACK = "slack"
    M365 = "m365"
    TEAMS = "teams"
    EMAIL = "email"
    CONSOLE = "console"


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and 0 <= value < 24 * 60:
        # YAML 1.1 reads 09:00 as the sexagesimal integer 540.
        return time(value // 60, value % 60)
    if isinstance(value, str) and (m := _TIME.match(value.strip())):
        return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(_say("bad_time", value=repr(value)))


ClockTime = Annotated[time, Field(description="HH:MM")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfficeHoursSpec(_Model):
    start: ClockTime = time(8)
    end: ClockTime = time(17)

    _check_start = field_validator("start", "end", mode="before")(_parse_time)


class DistributionSpec(_Model):
    days: tuple[int, int] = (1, 3)
    time: ClockTime = time(9)

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(_say("days_not_list"))
        out: list[int] = []
        for day in value:
            if isinstance(day, int) and 0 <= day <= 6:
                out.append(day)
            elif isinstance(day, str) and day.strip().lower() in WEEKDAYS:
                out.append(WEEKDAYS[day.strip().lower()])
            else:
                raise ValueError(_say("unknown_weekday", day=repr(day)))
        if len(out) != 2 or out[0] == out[1]:
            raise ValueError(_say("days_not_two"))
        return tuple(sorted(out))

    _check_time = field_validator("time", mode="before")(_parse_time)


class Rung(_Model):
    """One step of a unit's responsibility ladder (above the first answerer)."""

    title: str
    people: tuple[str, ...] = Field(min_length=1)
    business_days: float | None = Field(default=None, gt=0)
    business_hours: float | None = Field(default=None, gt=0)


class DueSpec(_Model):
    """Per-unit time limits for the first answerer (business time)."""

    distribution_hours_after_slot: float = Field(default=4, gt=0)
    acknowledge_days: float = Field(default=1, gt=0)
    book_days: float = Field(default=5, gt=0)
    outcome_days: float = Field(default=1, gt=0)
    prepare_days_before: int = Field(default=2, ge=1)


class Principal(_Model):
    id: str
    name: str
    kind: PrincipalKind
    sip_support_name: str | None = None  # the IT support for SIP/SVU, e.g. "Mina planer" in Skåne


class AfterHoursContact(_Model):
    """Who to call when the unit is closed (socialjour, akutpsykiatri)."""

    name: str
    phone: str


class Unit(_Model):
    id: str
    name: str
    principal: str
    distributors: tuple[str, ...] = Field(min_length=1)
    deputy: str | None = None
    ladder: tuple[Rung, ...] = Field(min_length=1)
    distribution: DistributionSpec = DistributionSpec()
    office_hours: OfficeHoursSpec = OfficeHoursSpec()
    due: DueSpec = DueSpec()
    phone: str | None = None
    after_hours: AfterHoursContact | None = None
    # The Entra ID security group whose members work here (`gfi-bot directory sync --entra`).
    entra_group: str | None = None


class Person(_Model):
    id: str
    name: str
    unit: str
    title: str | None = None
    roles: tuple[Role, ...] = (Role.STAFF,)
    slack_user_id: str | None = None
    email: str | None = None
    m365_upn: str | None = None
    phone: str | None = None
    channel: Channel = Channel.SLACK
    absent: bool = False
    # The line manager's person id (from Entra ID's `manager` or the HR export); informative.
    manager: str | None = None


class DirectoryFile(_Model):
    """The YAML file's shape."""

    principals: tuple[Principal, ...] = Field(min_length=1)
    units: tuple[Unit, ...] = Field(min_length=1)
    people: tuple[Person, ...] = Field(min_length=1)
    samverkan: tuple[SamverkanGroup, ...] = ()  # each principal pair's samverkansgrupp or lokalt samråd


class DirectoryProblem(BaseModel):
    """One thing wrong with a directory file: where (YAML path, and its line in the file when known) and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DirectoryError(Exception):
    """The directory file cannot be used; carries every problem found."""

    def __init__(self, file: Path, problems: list[DirectoryProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        """One line per problem: `file:line: path: reason` (`file: path: reason` when the line is unknown)."""
        return "\n".join(f"{self.file}:{p.line}: {p}" if p.line else f"{self.file}: {p}" for p in self.problems)
