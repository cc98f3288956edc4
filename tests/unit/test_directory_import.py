"""`gfi-bot directory import --csv`: reading an HR export, merging it, the dry run, and the file written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cases.leavers import stop_for_leavers
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Channel, Role, load_directory
from bot.directory.changes import diff
from bot.directory.csv_import import read_csv
from bot.directory.merge import Incoming, clean, merge
from bot.directory.update import EXIT_REFUSED, Request, apply
from bot.directory.writing import to_yaml, write_directory
from tests.conftest import local

HEADER = "Namn;Enhet;E-post;Titel;Chef\n"
SOC_NORR = [
    "Anna Lind;soc-norr;anna.lind@astad.example.se;enhetschef;carina.berg@astad.example.se",
    "Bo Ek;soc-norr;bo.ek@astad.example.se;biträdande enhetschef;anna.lind",
    "Maria Sand;soc-norr;MARIA.SAND@astad.example.se;socialsekreterare;",
    "Omar Haddad;soc-norr;omar.haddad@astad.example.se;socialsekreterare;",
    "Carina Berg;soc-norr;carina.berg@astad.example.se;sektionschef vuxen;",
    "Sara Holm;soc-norr;sara.holm@astad.example.se;samordnare;",
    "IT-förvaltningen;soc-norr;gfi-admin@astad.example.se;systemförvaltare;",
]


def export(tmp_path: Path, rows: list[str], *, bom: bool = True, sep: str = ";", header: str = HEADER) -> Path:
    path = tmp_path / "hr.csv"
    text = (header + "\n".join(rows) + "\n").replace(";", sep)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize(("bom", "sep"), [(True, ";"), (False, ";"), (True, ","), (False, ",")])
def test_reads_utf8_with_or_without_bom_and_either_separator(tmp_path: Path, bom: bool, sep: str) -> None:
    current = load_directory(DEFAULT_DIRECTORY).data
    rows = [*SOC_NORR, "Åsa Öberg;Socialtjänst Norr, vuxen/missbruk;asa.oberg@astad.example.se;socionom;"]
    if sep == ",":  # a unit name with a comma is quoted, as Excel writes it
        rows[-1] = 'Åsa Öberg;"Socialtjänst Norr, vuxen/missbruk";asa.oberg@astad.example.se;socionom;'
    people, scope, problems = read_csv(export(tmp_path, rows, bom=bom, sep=sep), current)
    assert problems == []
    assert scope == {"soc-norr"}
    assert [p.name for p in people][-1] == "Åsa Öberg"  # the unit found by its name too
    assert people[-1].unit == "soc-norr"
    assert people[0].manager == "carina.berg@astad.example.se"


def test_bad_rows_are_named_with_their_line(tmp_path: Path) -> None:
    current = load_directory(DEFAULT_DIRECTORY).data
    rows = [SOC_NORR[0], ";soc-norr;x@astad.example.se;;", "Ny Person;okänd-enhet;ny@astad.example.se;;",
            "Utan Adress;soc-norr;;;"]
    _, _, problems = read_csv(export(tmp_path, rows), current)
    assert [(p.line, p.path) for p in problems] == [(3, "rad 3"), (4, "rad 4"), (5, "rad 5")]
    assert "namn saknas" in problems[0].reason
    assert "okänd enhet 'okänd-enhet'" in problems[1].reason
    assert "epost eller upn" in problems[2].reason


def test_header_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    current = load_directory(DEFAULT_DIRECTORY).data
    _, _, problems = read_csv(export(tmp_path, ["Anna;x"], header="Förnamn;Avdelning\n"), current)
    assert [p.line for p in problems] == [1, 1]
    assert "okända kolumner: förnamn, avdelning" in problems[0].reason


def test_not_utf8_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_bytes((HEADER + "Åsa Öberg;soc-norr;asa@astad.example.se;;\n").encode("cp1252"))
    _, _, problems = read_csv(path, load_directory(DEFAULT_DIRECTORY).data)
    assert "CSV UTF-8" in problems[0].reason


def test_merge_keeps_what_the_export_does_not_carry_and_finds_people_by_address() -> None:
    current = load_directory(DEFAULT_DIRECTORY).data
    incoming = [
        Incoming(unit="soc-norr", name="Anna Lind-Berg", email="ANNA.LIND@astad.example.se", title="enhetschef",
                 manager="carina.berg@astad.example.se"),
        Incoming(unit="soc-soder", name="Maria Sand", email="maria.sand@astad.example.se"),
        Incoming(unit="soc-norr", name="Åsa Öberg", email="asa.oberg@astad.example.se"),
        Incoming(unit="soc-norr", name="Åsa Öberg", email="a.oberg@astad.example.se"),  # a namesake
    ]
    new = merge(current, incoming, {"soc-norr"})
    people = {p.id: p for p in new.people}
    anna = people["anna.lind"]
    assert (anna.name, anna.slack_user_id, anna.roles) == ("Anna Lind-Berg", "U01ANNA", (Role.DISTRIBUTOR, Role.STAFF))
    assert anna.manager == "carina.berg"
    assert people["maria.sand"].unit == "soc-soder"
    assert people["asa.oberg"].channel is Channel.M365 and people["a.oberg"].name == "Åsa Öberg"
    assert "omar.haddad" not in people  # in the export's unit, not in the export: removed
    assert "david.nord" in people  # another unit: untouched
    changes = diff(current, new)
    assert sorted(p.id for p in changes.added) == ["a.oberg", "asa.oberg"]
    assert [(m.person.id, m.old_unit) for m in changes.moved] == [("maria.sand", "soc-norr")]
    assert {p.id for p in changes.removed} == {"bo.ek", "omar.haddad", "carina.berg", "sara.holm", "it.admin"}
    assert changes.leaving["maria.sand"] == "soc-norr"


def test_written_file_reads_back_as_the_same_directory(tmp_path: Path) -> None:
    current = load_directory(DEFAULT_DIRECTORY)
    out = tmp_path / "katalog.yaml"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    write_directory(current.data, out, "import --csv hr.csv")
    again = load_directory(out)
    assert again.data == current.data
    assert out.stat().st_mode & 0o777 == 0o640  # the file's permissions kept
    assert out.read_text(encoding="utf-8").startswith("# GFI-boten — katalog, skriven av `gfi-bot directory import")
    assert "days:\n    - tisdag\n    - fredag" in out.read_text(encoding="utf-8")  # psykiatri: Swedish weekdays
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left


EXAMPLE = load_directory(DEFAULT_DIRECTORY).data


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_any_names_survive_the_written_file(names: list[str]) -> None:
    """Names from an export (quotes, colons, emoji, YAML keywords) come back from the file as given, but for
    control characters and runs of whitespace (which YAML would not keep either)."""
    current = EXAMPLE
    incoming = [Incoming(unit="beroende", name=n, email=f"p{i}@rsv.example.se") for i, n in enumerate(names)]
    new = merge(current, incoming, set())
    raw = yaml.safe_load(to_yaml(new))
    assert [p["name"] for p in raw["people"]][-len(names):] == [clean(n) or f"p{i}" for i, n in enumerate(names)]


async def test_dry_run_prints_added_moved_and_removed_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    before = target.read_bytes()
    current = load_directory(target)
    people, scope, _ = read_csv(export(tmp_path, [*SOC_NORR[:2], *SOC_NORR[4:],
                                                  "Åsa Öberg;soc-norr;asa.oberg@astad.example.se;socionom;",
                                                  "Maria Sand;soc-soder;maria.sand@astad.example.se;;",
                                                  "David Nord;soc-soder;david.nord@astad.example.se;;",
                                                  "Eva Ström;soc-soder;eva.strom@astad.example.se;;",
                                                  "Petra Lund;soc-soder;petra.lund@astad.example.se;;"]),
                                current.data)
    out, err = io.StringIO(), io.StringIO()
    request = Request(directory_path=target, out=target, db_path=None, how="import", dry_run=True)
    code = await apply(request, current, people, scope, FrozenClock(local("2026-03-02 10:00")), out, err,
                       lost_readers=stop_for_leavers)
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0] == "1 tillkommer, 1 flyttar, 1 tas bort, 2 får ändrade uppgifter."  # managers of Anna and Bo
    assert "  + asa.oberg  Åsa Öberg (soc-norr)" in lines
    assert "  > maria.sand  Maria Sand: soc-norr → soc-soder" in lines
    assert "  - omar.haddad  Omar Haddad (soc-norr)" in lines
    assert lines[-1] == "Provkörning (--dry-run): ingenting skrevs."
    assert target.read_bytes() == before


async def test_removing_the_only_distributor_is_refused_even_with_force(tmp_path: Path) -> None:
    current = load_directory(DEFAULT_DIRECTORY)
    rows = ["Linnea Fors;beroende;linnea.fors@rsv.example.se;kurator;"]  # Fatima and Gustav gone
    people, scope, _ = read_csv(export(tmp_path, rows), current.data)
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "ny.yaml"
    request = Request(directory_path=DEFAULT_DIRECTORY, out=target, db_path=None, how="import", force=True)
    code = await apply(request, current, people, scope, FrozenClock(local("2026-03-02 10:00")), out, err,
                       lost_readers=stop_for_leavers)
    assert code == EXIT_REFUSED
    assert "fatima.ali: fördelare för beroende → ingen kan ta över" in err.getvalue()
    assert "Nekas även med --force" in err.getvalue()
    assert not target.exists()


def test_moving_a_section_head_keeps_her_rungs_but_a_distributor_hands_over() -> None:
    from bot.directory.handover import _role_holdings, hand_over_roles

    current = load_directory(DEFAULT_DIRECTORY).data
    moved = merge(current, [Incoming(unit="soc-soder", name="Carina Berg", email="carina.berg@astad.example.se"),
                            Incoming(unit="soc-soder", name="Bo Ek", email="bo.ek@astad.example.se")], set())
    changes = diff(current, moved)
    assert set(changes.leaving) == {"carina.berg", "bo.ek"}
    found = _role_holdings(moved, changes.leaving)
    assert [(h.person_id, h.kind, h.unit, h.to) for h in found] == [("bo.ek", "deputy", "soc-norr", "anna.lind")]
    units = {u.id: u for u in hand_over_roles(moved, found).units}
    assert units["soc-norr"].deputy is None and units["soc-norr"].ladder[0].people == ("carina.berg",)
