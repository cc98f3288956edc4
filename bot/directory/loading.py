"""Reading and validating a directory YAML file: every problem with its YAML path (and line, when known)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.directory.lookup import Directory, FileRead
from bot.directory.model import (
    _ID,
    Channel,
    DirectoryError,
    DirectoryFile,
    DirectoryProblem,
    Role,
    _say,
)
from bot.samverkan.groups import check_groups


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
    for path, name, params in check_groups(data.samverkan, principal_ids, person_ids):
        add(path, _say(name, **params))
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


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """The 1-based line in the file where the YAML path (`units[0].ladder[1].people[0]`) points, or the line
    of the nearest enclosing node that exists (a missing field is reported at its parent)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for name, index in _PART.findall(path):
        if isinstance(node, yaml.MappingNode) and name:
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None)
        elif isinstance(node, yaml.SequenceNode) and index:
            node = node.value[int(index)] if int(index) < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def with_lines(text: str, problems: list[DirectoryProblem]) -> list[DirectoryProblem]:
    """The problems with the line of the file each one points at."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return problems
    return [p.model_copy(update={"line": _line_of(root, p.path)}) for p in problems]


# libyaml's parser when PyYAML was built with it (its wheels are): the same YAML, read several times faster than
# the pure-Python one, which took minutes for a directory of 10⁵ people (issue #23, bench/bench_directory.py).
FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(text: str, path: Path) -> Any:
    """The data of a directory file: YAML, or JSON for a file named `*.json` (a large directory exported by a
    script reads fastest as JSON, which is YAML too)."""
    if path.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=FAST_LOADER)  # a safe loader (CSafeLoader or SafeLoader)


def read_file(path: Path) -> tuple[bytes, float, Directory]:
    """Read a directory file once and validate it: its bytes, its modification time (seconds since the epoch, as
    the file system says when it was read) and the directory they validate to. DirectoryError when the file cannot
    be read, is not UTF-8 or is not valid; problems carry their line numbers."""
    raw, stat, directory = _read(path)
    return raw, stat.st_mtime, directory


def _read(path: Path) -> tuple[bytes, os.stat_result, Directory]:
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            raw = file.read()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise DirectoryError(
            path, [DirectoryProblem(path=_say("the_file"), reason=_say("unreadable", reason=exc.strerror))]
        ) from None
    except UnicodeDecodeError as exc:
        raise DirectoryError(path, [DirectoryProblem(path=_say("the_file"),
                                                     reason=_say("not_utf8", position=exc.start + 1))]) from None
    return raw, stat, parse_text(text, path)


def load_directory(path: Path) -> Directory:
    """Read and validate a directory YAML file; problems carry their line numbers. The directory keeps what was
    read (`Directory.read`: the bytes validated and the file's modification time), for the one who publishes it
    to the other instances at start (`bot.directory.shared`): the file is not read a second time."""
    raw, stat, directory = _read(path)
    directory.read = FileRead(raw, stat.st_mtime)
    # what the file watcher starts from (`bot.directory.reload`): the file as it was read, not as it is when the
    # watcher is made (an edit in between would be taken as served already, and never applied)
    directory.seen = ((stat.st_mtime_ns, stat.st_size, stat.st_ino), hashlib.sha256(raw).hexdigest())
    return directory


def parse_text(text: str, path: Path) -> Directory:
    """Validate a directory file's text (YAML, or JSON when `path` is named `*.json`); problems carry their line
    numbers. The text may come from the file at `path` or from the store (`bot.directory.shared`)."""
    try:
        raw = read_text(text, path)
    except json.JSONDecodeError as exc:
        problem = DirectoryProblem(path=_say("yaml_at", line=exc.lineno, column=exc.colno),
                                   reason=_say("bad_yaml", problem=exc.msg), line=exc.lineno)
        raise DirectoryError(path, [problem]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _say("yaml_at", line=mark.line + 1, column=mark.column + 1) if mark else _say("the_file")
        problem = DirectoryProblem(path=where, reason=_say("bad_yaml", problem=getattr(exc, "problem", exc)),
                                   line=mark.line + 1 if mark else None)
        raise DirectoryError(path, [problem]) from None
    if not isinstance(raw, dict):
        raise DirectoryError(path, [DirectoryProblem(path=_say("the_file"), reason=_say("not_mapping"))])
    try:
        return parse_directory(raw, path)
    except DirectoryError as exc:
        raise DirectoryError(path, with_lines(text, exc.problems)) from None
