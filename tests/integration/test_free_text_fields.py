"""Every free-text input of the case service: bounded length, empty when blank, wrong types, identity numbers.

Each entry point is driven the way a user would (a request, a distribution, a booking, a follow-up, a close);
what is refused leaves no trace of the text in the SQLite file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cases.models import Case
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from bot.fields import MAX_LENGTH
from tests.conftest import local
from tests.timekit import form

# A valid personnummer (correct check digit) of nobody in particular, and one with a wrong check digit.
PNR_DIGITS = "8112189876"
MISTYPED_DIGITS = "8112189875"
DISGUISES = [
    "81\u201112\u201118\u20139876",  # non-breaking hyphen and en dash, split date
    "\uff18\uff11\uff11\uff12\uff11\uff18\uff0d\uff19\uff18\uff17\uff16",  # full-width
    "8 1 1 2 1 8 9 8 7 6",  # spaced digits
    "19811218.9876",
    "811218\u200b9876",
    "\u0668\u0661\u0661\u0662\u0661\u0668-\u0669\u0668\u0667\u0666",  # Arabic-Indic
]


def file_bytes(core: Core) -> bytes:
    """The database file and its WAL, as stored on disk."""
    path = Path(core.settings.db_path)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def case_in(core: Core, clock: FrozenClock, state: str) -> Case:
    """A case of maria.sand (soc-norr) to beroende, walked to `state` by its staff (from Monday 10:00)."""
    clock.set(local("2026-11-23T10:00"))
    case = await core.cases.request("maria.sand", form())
    if state == "requested":
        return case
    case = await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    if state == "assigned":
        return case
    case = await core.cases.acknowledge("linnea.fors", case.ref)
    if state == "acknowledged":
        return case
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T14:30"))
    return await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", evaluation_done=True)


Submit = Callable[[Any], Awaitable[Any]]
STATE_FOR = {"annan": "requested", "plats": "acknowledged", "vad": "meeting_held", "skal": "meeting_held",
             "vantar_skal": "acknowledged", "tvist_skal": "acknowledged", "enig": "acknowledged"}
REQUEST_KEY = {"kort": "brief", "kontakt": "contact", "enhet": "target_unit", "typ": "case_type",
               "kontakter": "other_contacts"}


async def entry(core: Core, clock: FrozenClock, field: str) -> Submit:
    """Walk a case to where `field` is typed; return a function that submits one value of it."""
    if field not in STATE_FOR:
        async def request(value: Any) -> Any:
            if field == "omfattar":
                return await core.cases.request("maria.sand", form(consent_scope=value))
            # names_checked: the name/address warning (tests/unit/test_names.py) is not what is tested here
            return await core.cases.request("maria.sand", form(**{REQUEST_KEY[field]: value}, names_checked=True))

        return request
    ref = (await case_in(core, clock, STATE_FOR[field])).ref
    if field == "enig":  # what was agreed is typed when a dispute is settled
        await core.disputes.dispute("linnea.fors", ref, "Socialtjänstens uppdrag")

    async def submit(value: Any) -> Any:
        if field == "annan":
            return await core.cases.assign("fatima.ali", ref, [], value, reassign=True)
        if field == "plats":
            return await core.cases.book("linnea.fors", ref, local("2026-12-01T13:00"), value, ["soc-norr", "beroende"])
        if field == "vantar_skal":
            return await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), value)
        if field == "tvist_skal":
            return await core.disputes.dispute("linnea.fors", ref, value)
        if field == "enig":
            return await core.disputes.settle("helena.ros", ref, value)
        if field == "vad":
            return await core.cases.add_follow_up("linnea.fors", ref, "maria.sand", date(2026, 12, 14), value)
        return await core.cases.close("linnea.fors", ref, value)

    return submit


TEXT_FIELDS = ["kort", "kontakt", "annan", "plats", "vad", "skal", "vantar_skal", "tvist_skal", "enig", "kontakter"]


def test_every_field_has_a_limit_and_a_swedish_label() -> None:
    labels = Path("templates/messages/_labels.j2").read_text(encoding="utf-8")
    for field in MAX_LENGTH:
        assert f'"{field}":' in labels, field
    other = {"omfattar", "avser_text", "handelse", "atgarder", "dialog", "enhet", "typ", "fornamn", "beslut",
             "lotsad_till", "kommentar"}
    assert set(TEXT_FIELDS) | other == set(MAX_LENGTH)


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_text_at_the_limit_is_saved_and_one_more_character_is_refused(
    core: Core, clock: FrozenClock, field: str
) -> None:
    limit = MAX_LENGTH[field]
    submit = await entry(core, clock, field)
    longest = ("man 45 år " * limit)[: limit - 1] + "x"
    with pytest.raises(FieldError) as exc:
        await submit(longest + "y")
    assert exc.value.errors[field][0] == "too_long"
    assert f"får vara högst {limit} tecken" in core.renderer.field_errors(exc.value)[field]
    await submit(longest)


@pytest.mark.parametrize("field", ["omfattar", "enhet", "typ"])
async def test_choice_fields_are_bounded_too(core: Core, clock: FrozenClock, field: str) -> None:
    value: Any = ["y" * 200, "z" * 200] if field == "omfattar" else "x" * (MAX_LENGTH[field] + 1)
    with pytest.raises(FieldError) as exc:
        await (await entry(core, clock, field))(value)
    assert exc.value.errors[field][0] == "too_long"
    message = core.renderer.field_errors(exc.value)[field]
    assert "x" * 50 not in message and "y" * 50 not in message  # the long value is not echoed


async def test_hundred_thousand_characters_never_reach_a_message(core: Core, clock: FrozenClock) -> None:
    for field in ("annan", "plats"):
        with pytest.raises(FieldError):
            await (await entry(core, clock, field))("å" * 100_000)
    async with core.db.transaction() as tx:
        longest_text = await tx.scalar("SELECT MAX(LENGTH(text)) FROM outbox")
        longest_message = await tx.scalar("SELECT MAX(LENGTH(message)) FROM outbox")
    assert longest_text < 3000 and longest_message < 3000  # a described row keeps its message only
    assert "å" * 1000 not in file_bytes(core).decode("utf-8", "ignore")


BLANKS = ["   ", "\u200b", " \u200b\u200d\ufeff\t\n ", "\u2060"]


@pytest.mark.parametrize("field", ["kort", "plats", "vad", "skal"])
async def test_whitespace_or_zero_width_only_is_empty(core: Core, clock: FrozenClock, field: str) -> None:
    submit = await entry(core, clock, field)
    for blank in BLANKS:
        with pytest.raises(FieldError) as exc:
            await submit(blank)
        assert exc.value.errors[field][0] == "required", ascii(blank)


async def test_blank_annan_is_no_assignee_and_blank_contact_is_the_default(core: Core, clock: FrozenClock) -> None:
    assign = await entry(core, clock, "annan")
    for blank in BLANKS:
        with pytest.raises(Refusal) as refusal:
            await assign(blank)
        assert refusal.value.code == "no_assignee"
        case = await core.cases.request("maria.sand", form(contact=blank))
        assert case.contact and case.contact.startswith("Maria Sand")


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_wrong_type_is_a_field_error(core: Core, clock: FrozenClock, field: str) -> None:
    submit = await entry(core, clock, field)
    for value in (["a", "b"], 42, {"text": "x"}):
        with pytest.raises(FieldError) as exc:
            await submit(value)
        assert exc.value.errors[field][0] == "wrong_type"
        assert "ogiltigt värde" in core.renderer.field_errors(exc.value)[field]


@pytest.mark.parametrize("field", [*TEXT_FIELDS, "enhet", "omfattar"])
async def test_disguised_number_is_refused_in_every_field_and_never_stored(
    core: Core, clock: FrozenClock, field: str
) -> None:
    submit = await entry(core, clock, field)
    for disguise in DISGUISES:
        value: Any = [f"pnr {disguise}"] if field == "omfattar" else f"gäller pnr {disguise} enligt journal"
        with pytest.raises(FieldError) as exc:
            await submit(value)
        assert exc.value.errors[field][0] == "identity_number", ascii(disguise)
        message = core.renderer.field_errors(exc.value)[field]
        assert "personnummer" in message and "Inget har sparats" in message
        assert disguise not in message and "9876" not in message
    stored = file_bytes(core)
    # not a bare b"9876": real-time stamps (e.g. migrations' microseconds) may hold those four digits
    assert PNR_DIGITS.encode() not in stored and b"pnr" not in stored
    assert not any(d.encode() in stored for d in DISGUISES)


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_wrong_check_digit_is_refused_as_looking_like_a_number(
    core: Core, clock: FrozenClock, field: str
) -> None:
    submit = await entry(core, clock, field)
    for number in ["811218-9875", "81-12-18-9875", "1981 12 18 9875", "8112189875", "8 1 1 2 1 8 9 8 7 5"]:
        with pytest.raises(FieldError) as exc:
            await submit(f"nr {number}")
        assert exc.value.errors[field][0] == "identity_number"
        message = core.renderer.field_errors(exc.value)[field]
        assert "ser ut som ett personnummer" in message and "9875" not in message
    assert MISTYPED_DIGITS.encode() not in file_bytes(core)


LOOK_ALIKES = [
    "ring 070-123 45 67", "08-123 456 78", "+46 70 123 45 67", "2026-11-30 kl. 13.00", "13:00–14:30",
    "211 22 Malmö", "org.nr 212000-1124", "GFI-2026-0042", "dnr 2026/1234-56",
]


@pytest.mark.parametrize("field", TEXT_FIELDS)
async def test_look_alikes_are_saved_in_every_field(core: Core, clock: FrozenClock, field: str) -> None:
    await (await entry(core, clock, field))(", ".join(LOOK_ALIKES))


async def test_renewed_consent_scope_is_guarded(core: Core, clock: FrozenClock) -> None:
    case = await case_in(core, clock, "acknowledged")
    with pytest.raises(FieldError) as exc:
        await core.cases.renew_consent("linnea.fors", case.ref, date(2027, 6, 1), ["psykiatri", "811218-9876"])
    assert exc.value.errors["omfattar"][0] == "identity_number"
    assert "9876" not in core.renderer.field_errors(exc.value)["omfattar"]
