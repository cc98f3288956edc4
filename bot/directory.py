"""The directory: principals, units, people, roles, ladders and distribution days (a validated YAML file)."""

from __future__ import annotations

import re
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot import texts
from bot.presence import AbsenceBook, answering, stand_in


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


class DirectoryFile(_Model):
    """The YAML file's shape."""

    principals: tuple[Principal, ...] = Field(min_length=1)
    units: tuple[Unit, ...] = Field(min_length=1)
    people: tuple[Person, ...] = Field(min_length=1)


class DirectoryProblem(BaseModel):
    """One thing wrong with a directory file: where (YAML path) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DirectoryError(Exception):
    """The directory file cannot be used; carries every problem found."""

    def __init__(self, file: Path, problems: list[DirectoryProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        """One line per problem: `file: path: reason`."""
        return "\n".join(f"{self.file}: {p}" for p in self.problems)


class Directory:
    """Validated directory with lookups by id and by channel identity."""

    def __init__(self, data: DirectoryFile, source: Path | None = None) -> None:
        self.data = data
        self.source = source
        self.principals = {p.id: p for p in data.principals}
        self.units = {u.id: u for u in data.units}
        self.people = {p.id: p for p in data.people}
        self._by_slack = {p.slack_user_id: p for p in data.people if p.slack_user_id}
        self._by_email = {e.lower(): p for p in data.people for e in (p.email, p.m365_upn) if e}
        # Absences registered in the bot (`/frånvaro`), on top of the file's `absent` flag (bot/absence).
        self.absences = AbsenceBook()

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def unit(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def by_slack_id(self, slack_user_id: str) -> Person | None:
        return self._by_slack.get(slack_user_id)

    def by_email(self, email: str) -> Person | None:
        return self._by_email.get(email.lower())

    def unit_of(self, person_id: str) -> Unit | None:
        person = self.people.get(person_id)
        return self.units.get(person.unit) if person else None

    def principal_of(self, unit_id: str) -> Principal | None:
        unit = self.units.get(unit_id)
        return self.principals.get(unit.principal) if unit else None

    def sip_support(self, *unit_ids: str | None) -> str | None:
        """The name of the IT support for SIP/SVU (e.g. Mina planer) of the units' principals, the region's
        first; None when the directory does not name one."""
        principals = [p for p in (self.principal_of(u) for u in unit_ids if u) if p and p.sip_support_name]
        principals.sort(key=lambda p: p.kind is not PrincipalKind.REGION)
        return principals[0].sip_support_name if principals else None

    def distributors_of(self, unit_id: str) -> list[str]:
        """Who may distribute the unit's queue: its distributors and its deputy."""
        unit = self.units[unit_id]
        ids = list(unit.distributors)
        if unit.deputy and unit.deputy not in ids:
            ids.append(unit.deputy)
        # a stand-in named for an absent distributor distributes for the period (bot/absence)
        for pid in list(ids):
            standing_in = stand_in(self, pid)
            if standing_in is not None and standing_in not in ids:
                ids.append(standing_in)
        return ids

    def active_distributors(self, unit_id: str, at: datetime | None = None) -> list[str]:
        """Distributors who are present (an absent one's stand-in instead); the deputy when none of them is."""
        unit = self.units[unit_id]
        return answering(self, unit.distributors, unit.deputy, at)

    def staff_of(self, unit_id: str) -> list[Person]:
        return [p for p in self.data.people if p.unit == unit_id]

    def coordinators(self) -> list[Person]:
        return [p for p in self.data.people if Role.COORDINATOR in p.roles]

    def name(self, person_id: str) -> str:
        """Display name of a person, or the id when unknown."""
        person = self.people.get(person_id)
        return person.name if person else person_id

    def name_with_title(self, person_id: str) -> str:
        """`Anna Lind (enhetschef)`; the name alone when the directory gives no title."""
        person = self.people.get(person_id)
        if person is None:
            return person_id
        return f"{person.name} ({person.title})" if person.title else person.name

    def title_and_name(self, person_id: str) -> str:
        """`enhetschef Anna Lind`; the name alone when the directory gives no title."""
        person = self.people.get(person_id)
        if person is None:
            return person_id
        return f"{person.title} {person.name}" if person.title else person.name

    def unit_name(self, unit_id: str) -> str:
        unit = self.units.get(unit_id)
        return unit.name if unit else unit_id


def _yaml_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or _say("the_file")


def _cross_check(data: DirectoryFile) -> list[DirectoryProblem]:
    problems: list[DirectoryProblem] = []

    def add(path: str, reason: str) -> None:
        problems.append(DirectoryProblem(path=path, reason=reason))

    def check_ids(kind: str, items: tuple[Any, ...]) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not _ID.match(item.id):
                add(f"{kind}[{i}].id", _say("bad_id", id=repr(item.id)))
            if item.id in seen:
                add(f"{kind}[{i}].id", _say("duplicate_id", id=repr(item.id)))
            seen.add(item.id)
        return seen

    principal_ids = check_ids("principals", data.principals)
    unit_ids = check_ids("units", data.units)
    person_ids = check_ids("people", data.people)

    def known_person(path: str, pid: str) -> None:
        if pid not in person_ids:
            add(path, _say("unknown_person", id=repr(pid)))

    for i, unit in enumerate(data.units):
        base = f"units[{i}]"
        if unit.principal not in principal_ids:
            add(f"{base}.principal", _say("unknown_principal", id=repr(unit.principal)))
        for j, pid in enumerate(unit.distributors):
            known_person(f"{base}.distributors[{j}]", pid)
        if unit.deputy is not None:
            known_person(f"{base}.deputy", unit.deputy)
        for r, rung in enumerate(unit.ladder):
            for j, pid in enumerate(rung.people):
                known_person(f"{base}.ladder[{r}].people[{j}]", pid)
            if rung.business_days is not None and rung.business_hours is not None:
                add(f"{base}.ladder[{r}]", _say("days_and_hours"))
        if unit.office_hours.start >= unit.office_hours.end:
            add(f"{base}.office_hours", _say("office_hours_order"))
        elif not (unit.office_hours.start <= unit.distribution.time < unit.office_hours.end):
            add(f"{base}.distribution.time", _say("distribution_outside_office"))
        dist_time = unit.distribution.time
        if time(2) <= dist_time < time(3):
            add(f"{base}.distribution.time", _say("distribution_dst"))

    slack_seen: dict[str, int] = {}
    for i, person in enumerate(data.people):
        base = f"people[{i}]"
        if person.unit not in unit_ids:
            add(f"{base}.unit", _say("unknown_unit", id=repr(person.unit)))
        if person.channel is Channel.SLACK and not person.slack_user_id and not person.email:
            add(f"{base}.channel", _say("slack_needs_id"))
        if person.channel is Channel.M365 and not (person.m365_upn or person.email):
            add(f"{base}.channel", _say("m365_needs_id"))
        if person.slack_user_id:
            if person.slack_user_id in slack_seen:
                add(f"{base}.slack_user_id", _say("slack_id_taken"))
            slack_seen[person.slack_user_id] = i
    if not any(Role.COORDINATOR in p.roles for p in data.people):
        add("people", _say("no_coordinator"))
    return problems


def parse_directory(raw: Any, source: Path) -> Directory:
    """Validate already-parsed YAML data; raises DirectoryError with every problem found."""
    try:
        data = DirectoryFile.model_validate(raw)
    except ValidationError as exc:
        problems = [DirectoryProblem(path=_yaml_path(tuple(err["loc"])), reason=_reason(err)) for err in exc.errors()]
        raise DirectoryError(source, problems) from None
    problems = _cross_check(data)
    if problems:
        raise DirectoryError(source, problems)
    return Directory(data, source)


def _reason(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return _say("missing")
    if kind == "extra_forbidden":
        return _say("extra_field")
    if kind == "too_short":
        return _say("empty")
    msg = str(err.get("msg") or _say("invalid"))
    return msg.removeprefix("Value error, ")


def load_directory(path: Path) -> Directory:
    """Read and validate a directory YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(
            path, [DirectoryProblem(path=_say("the_file"), reason=_say("unreadable", reason=exc.strerror))]
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _say("yaml_at", line=mark.line + 1, column=mark.column + 1) if mark else _say("the_file")
        raise DirectoryError(
            path, [DirectoryProblem(path=where, reason=_say("bad_yaml", problem=getattr(exc, "problem", exc)))]
        ) from None
    if not isinstance(raw, dict):
        raise DirectoryError(path, [DirectoryProblem(path=_say("the_file"), reason=_say("not_mapping"))])
    return parse_directory(raw, path)
