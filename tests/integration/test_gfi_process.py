"""Issue #10 (items 1, 5, 8, 10, 11) through the service: the GFI process as the handbook means it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cases.models import CaseState, CaseType, ChildrenAffected, CloseReason, Outcome
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Directory, parse_directory
from bot.errors import FieldError
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import assigned_case, form


def old_style_directory() -> Directory:
    """The example directory without the fields added for issue #10 (a directory written before them)."""
    raw: dict[str, Any] = yaml.safe_load(Path(DEFAULT_DIRECTORY).read_text(encoding="utf-8"))
    for principal in raw["principals"]:
        principal.pop("sip_support_name", None)
    for unit in raw["units"]:
        unit.pop("after_hours", None)
    return parse_directory(raw, Path(DEFAULT_DIRECTORY))


async def test_pagaende_between_units_of_one_principal_is_filed(make_core: CoreFactory) -> None:
    core = await make_core()
    case = await core.cases.request("maria.sand", form(target_unit="soc-soder", case_type="pågående"))
    assert case.case_type is CaseType.ONGOING_BOTH and case.state is CaseState.REQUESTED
    region = await core.cases.request("linnea.fors", form(target_unit="psykiatri", case_type="pagaende"))
    assert region.case_type is CaseType.ONGOING_BOTH  # beroende and psykiatri: both Region Sydväst

    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(target_unit="beroende", case_type="pågående"))
    code, params = exc.value.errors["typ"]
    assert code == "sip_precedence" and params["support"] == "Lifecare SP"
    assert "(kallelse i Lifecare SP)" in core.renderer.field_errors(exc.value)["typ"]


async def test_without_a_named_sip_support_the_text_says_your_it_support(make_core: CoreFactory) -> None:
    core = await make_core(directory=old_style_directory())
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(target_unit="beroende", case_type="svu"))
    text = core.renderer.field_errors(exc.value)["typ"]
    assert "planering och SIP i ert IT-stöd för SIP/SVU" in text and "Mina planer" not in text


async def test_completed_is_refused_without_an_outcome(make_core: CoreFactory, clock: FrozenClock) -> None:
    core = await make_core()
    case = await assigned_case(core)
    for reason in ("genomförd", "genomford", "sip-vid-gfi"):
        with pytest.raises(FieldError) as exc:
            await core.cases.close("linnea.fors", case.ref, reason)
        assert exc.value.errors["skal"][0] == "close_without_outcome"
    assert (await core.cases.get(case.ref)).state is CaseState.ASSIGNED
    closed = await core.cases.close("linnea.fors", case.ref, "avböjde")  # no meeting: another reason
    assert closed.closed_reason is CloseReason.DECLINED


async def test_after_lotsning_completed_asks_for_the_new_contact(make_core: CoreFactory, clock: FrozenClock) -> None:
    core = await make_core()
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    case = await core.cases.record_outcome("linnea.fors", case.ref, "lotsning", evaluation_done=True)
    assert case.outcome is Outcome.LOTSNING
    with pytest.raises(FieldError) as exc:
        await core.cases.close("linnea.fors", case.ref, "genomförd")
    assert exc.value.errors["nykontakt"][0] == "new_contact_unknown"
    with pytest.raises(FieldError) as exc:
        await core.cases.close("linnea.fors", case.ref, "genomförd", new_contact=False)
    assert exc.value.errors["nykontakt"][0] == "new_contact_missing"
    closed = await core.cases.close("linnea.fors", case.ref, "genomförd", new_contact=True)
    assert closed.closed_reason is CloseReason.COMPLETED


async def test_children_are_stored_and_put_in_the_checklist(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core()
    case = await assigned_case(core, children="vet ej")
    assert case.children is ChildrenAffected.UNKNOWN
    case = await assigned_case(core, children="ja")
    assert case.children is ChildrenAffected.YES
    core = await make_core()  # a restart: read back from the database
    assert (await core.cases.get(case.ref)).children is ChildrenAffected.YES
    await core.tick()
    # the duty to report goes to those responsible at assignment, not two days before the meeting (issue #18)
    [assigned] = [m for m in sender.to("linnea.fors", "assigned_to_you") if m.case_ref == case.ref]
    assert "Barn berörs: ja" in assigned.text
    assert "skyldiga att genast göra en orosanmälan till socialnämnden" in assigned.text
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-12-07T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-12-04T12:00"))
    await core.tick()
    [prepare] = sender.to("linnea.fors", "reminder_prepare")
    assert "Barn berörs: ja" in prepare.text and "barnets perspektiv" in prepare.text
    assert "orosanmälan" not in prepare.text and "Vet den enskilde vem som kommer" in prepare.text
    # the handbook's prompts (issue #18 item 20): other contacts, violence in close relationships, pregnancy
    assert "Vilka andra kontakter har den enskilde" in prepare.text
    assert "våld i nära relationer" in prepare.text and "specialistmödravården" in prepare.text
    with pytest.raises(FieldError) as exc:  # required on every channel
        await core.cases.request("maria.sand", form(children=None))
    assert exc.value.errors["barn"][0] == "required"
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(children="kanske"))
    assert exc.value.errors["barn"][0] == "bad_choice"


async def test_urgent_out_of_hours_without_an_after_hours_contact(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    clock.set(local("2026-11-28T11:00"))  # a Saturday
    core = await make_core(directory=old_style_directory())
    await core.cases.request("maria.sand", form(urgent=True))
    await core.tick()
    [receipt] = sender.to("maria.sand", "case_filed")
    assert "Beroendemottagningen Åstad har stängt nu" in receipt.text
    assert "öppnar, mån 30 nov 2026 kl. 08:00" in receipt.text
    assert "Katalogen anger ingen jourkontakt för Beroendemottagningen Åstad." in receipt.text


async def test_nobody_is_told_about_their_own_assignment(make_core: CoreFactory, sender: RecordingSender) -> None:
    core = await make_core()
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["fatima.ali", "linnea.fors"])
    await core.tick()
    assert not sender.to("fatima.ali", "assigned_to_you")
    [told] = sender.to("linnea.fors", "assigned_to_you")
    assert told.text.startswith(f"Fatima Ali har fördelat {case.ref} till dig.")
