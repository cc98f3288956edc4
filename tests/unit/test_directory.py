"""Directory validation: every problem reported with its YAML path; the example is valid."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import DEFAULT_DIRECTORY
from bot.directory import DirectoryError, load_directory, parse_directory

RAW: dict[str, Any] = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(DirectoryError) as exc:
        parse_directory(raw, Path("katalog.yaml"))
    return {p.path: p.reason for p in exc.value.problems}


def test_example_directory_is_realistic() -> None:
    directory = load_directory(DEFAULT_DIRECTORY)
    kinds = {p.kind.value for p in directory.principals.values()}
    assert kinds == {"kommun", "region"}
    assert len(directory.units) >= 5
    for unit in directory.units.values():
        assert unit.distributors and unit.deputy
        assert unit.ladder[-1].people[0] in {p.id for p in directory.coordinators()}
    assert directory.units["soc-norr"].distribution.days == (1, 3)


def test_unknown_person_in_ladder() -> None:
    raw = copy.deepcopy(RAW)
    raw["units"][0]["ladder"][0]["people"] = ["nobody.here"]
    assert problems(raw) == {"units[0].ladder[0].people[0]": "okänd person 'nobody.here'"}


def test_unit_without_distributor_and_bad_time_are_both_reported() -> None:
    raw = copy.deepcopy(RAW)
    raw["units"][1]["distributors"] = []
    raw["units"][2]["distribution"]["time"] = "25:99"
    found = problems(raw)
    assert "units[1].distributors" in found
    assert "units[2].distribution.time" in found and "HH:MM" in found["units[2].distribution.time"]


def test_cross_references() -> None:
    raw = copy.deepcopy(RAW)
    raw["units"][0]["principal"] = "nowhere"
    raw["people"][0]["unit"] = "no-unit"
    raw["units"][4]["office_hours"] = {"start": "17:00", "end": "08:00"}
    raw["people"].append(dict(raw["people"][1]))  # duplicate id
    found = problems(raw)
    assert found["units[0].principal"] == "okänd huvudman 'nowhere'"
    assert found["people[0].unit"] == "okänd enhet 'no-unit'"
    assert "units[4].office_hours" in found
    assert any(path.endswith(".id") and "mer än en gång" in reason for path, reason in found.items())


def test_distribution_needs_two_different_days() -> None:
    raw = copy.deepcopy(RAW)
    raw["units"][3]["distribution"]["days"] = ["tisdag", "tisdag"]
    raw["units"][2]["distribution"]["days"] = ["tisdag", "funday"]
    found = problems(raw)
    assert "två" in found["units[3].distribution.days"]
    assert "funday" in found["units[2].distribution.days"]


def test_no_coordinator() -> None:
    raw = copy.deepcopy(RAW)
    for person in raw["people"]:
        person["roles"] = [r for r in person.get("roles", []) if r != "coordinator"] or ["staff"]
    assert "people" in problems(raw)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("principals:\n  - id: a\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as exc:
        load_directory(bad)
    assert "rad" in exc.value.problems[0].path


def test_check_directory_command(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-directory", str(DEFAULT_DIRECTORY)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    raw = copy.deepcopy(RAW)
    raw["units"][0]["deputy"] = "ghost"
    bad = tmp_path / "katalog.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-directory", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    line = bad.read_text(encoding="utf-8").splitlines().index("  deputy: ghost") + 1
    assert f"{bad}:{line}: units[0].deputy: okänd person 'ghost'" in result.stderr


def test_bot_does_not_start_on_a_broken_directory(tmp_path: Path) -> None:
    bad = tmp_path / "katalog.yaml"
    bad.write_text("principals: []\nunits: []\npeople: []\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--directory", str(bad), "--db", str(tmp_path / "x.db")],
        input="/mina\n",
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "startar inte" in result.stderr
    assert not (tmp_path / "x.db").exists()


# --- the samverkan section (issue #18 item 4) ----------------------------------------------------------------
def test_the_example_names_the_samverkansgrupp_of_kommun_and_region() -> None:
    directory = load_directory(DEFAULT_DIRECTORY)
    group = directory.samverkan_for("soc-norr", "beroende")
    assert group is not None and group.contacts == ("sara.holm", "jonas.sjo")
    assert directory.samverkan_for("beroende", "psykiatri") is None  # within the region: its own line organisation
    assert directory.samverkan_for("soc-norr", "soc-soder") is None


def test_samverkan_problems_are_reported_with_their_path(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    raw["samverkan"] = [
        {"id": "a", "name": "A", "principals": ["astad", "okand"], "contacts": ["sara.holm", "nobody"]},
        {"id": "b", "name": "B", "kind": "lokalt-samrad", "principals": ["region-sydvast", "astad"],
         "contacts": ["jonas.sjo"]},
        {"id": "c", "name": "C", "kind": "samrad", "principals": ["astad", "region-sydvast"], "contacts": ["x"]},
    ]
    path = tmp_path / "katalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DirectoryError) as exc:
        load_directory(path)
    report = exc.value.report()
    assert "samverkan[2].kind" in report  # an unknown kind
    raw["samverkan"][2]["kind"] = "samverkansgrupp"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DirectoryError) as exc:
        load_directory(path)
    report = exc.value.report()
    assert "samverkan[0].principals[1]: okänd huvudman 'okand'" in report
    assert "samverkan[0].contacts[1]: okänd person 'nobody'" in report
    assert "samverkan[2].principals: samma huvudmän har redan en samverkansgrupp" in report


def test_a_written_directory_keeps_its_samverkan_section(tmp_path: Path) -> None:
    """`gfi-bot directory import|sync` rewrite the file: the samverkansgrupper come back as they were."""
    from bot.directory.loading import parse_directory
    from bot.directory.writing import to_yaml

    current = load_directory(DEFAULT_DIRECTORY)
    again = parse_directory(yaml.safe_load(to_yaml(current.data)), tmp_path / "katalog.yaml")
    assert again.data.samverkan == current.data.samverkan and again.data.samverkan


def test_a_reload_swaps_the_tables_in_one_assignment() -> None:
    # review of reads-e, item 4: Homes and cards render on threads while a reload runs on the loop; with the
    # tables swapped one attribute at a time a thread could see the new units with the old people
    directory = load_directory(DEFAULT_DIRECTORY)
    raw = copy.deepcopy(RAW)
    raw["people"] = [p for p in raw["people"] if p["id"] != "maria.sand"]
    new = parse_directory(raw, Path("katalog.yaml"))
    before = directory.tables
    assigned: list[str] = []

    class Watched(type(directory)):  # type: ignore[misc]
        def __setattr__(self, name: str, value: object) -> None:
            assigned.append(name)
            super().__setattr__(name, value)

    directory.__class__ = Watched
    replaced = directory.replace(new)
    assert [n for n in assigned if n not in ("source", "read", "seen")] == ["_tables"]
    assert directory.tables is new.tables and "maria.sand" not in directory.people
    assert "maria.sand" in before.people and before.units is not directory.units  # the old version stays whole
    assert replaced["tables"] is before
    with pytest.raises(AttributeError):
        directory.tables.people = {}  # type: ignore[misc]
    assert directory.unit_of("sara.holm") is directory.units[directory.people["sara.holm"].unit]
