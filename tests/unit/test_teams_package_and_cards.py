"""The Teams app package (manifest fields the published v1.19 schema requires, icons) and Adaptive Cards within
what Teams renders (schema 1.5 element types, Action.Execute verbs = offer names, no Markdown from users).

The manifest was validated against Microsoft's published MicrosoftTeams.schema.json v1.19 (npm package
@microsoft/app-manifest 1.1.2) when it was written; no PyPI package ships that schema or the Adaptive Card
schema, so these tests check the required fields and the card structure themselves."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path

import pytest

from bot.channels.teams import cards
from bot.channels.teams.package import manifest, write_package
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.messages.model import Line, Message, Offer
from bot.rendering import Renderer
from tests.fakes.teams import actions_of, nodes

APP_ID = "11111111-2222-3333-4444-555555555555"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Adaptive Cards 1.5 (Teams desktop and mobile): the element and action types we may use.
ELEMENTS = {"TextBlock", "RichTextBlock", "TextRun", "Container", "ColumnSet", "Column", "FactSet", "ActionSet",
            "Input.Text", "Input.ChoiceSet", "Input.Toggle", "Input.Date", "Input.Time", "Input.Number", "Image"}
ACTIONS = {"Action.Execute", "Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility", "Action.Submit"}
VERBS = {"acknowledge", "assign", "book", "rebook", "book_again", "no_show", "record_outcome", "add_follow_up",
         "complete_follow_up", "close", "reopen", "withdraw_consent", "withdraw_consent_form", "renew_consent",
         "take_over", "nudge", "reassign", "request", "dispute", "settle_dispute", "to_samverkan"}


def test_manifest_has_what_teams_requires() -> None:
    m = manifest(APP_ID, "1.2.3")
    for key in ("$schema", "manifestVersion", "version", "id", "developer", "name", "description", "icons",
                "accentColor"):
        assert key in m
    assert m["manifestVersion"] == "1.19" and GUID.match(m["id"])
    assert all(m["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert len(m["name"]["short"]) <= 30 and len(m["name"]["full"]) <= 100
    assert len(m["description"]["short"]) <= 80 and len(m["description"]["full"]) <= 4000
    assert re.match(r"^#[0-9A-Fa-f]{6}$", m["accentColor"])
    bot = m["bots"][0]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"]
    commands = bot["commandLists"][0]["commands"]
    assert [c["title"] for c in commands] == ["hem", "gfi", "kö", "mina", "brist", "journal", "frånvaro", "hjälp"]
    assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in commands)


def _png_size(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_package_is_a_flat_zip_with_both_icons(tmp_path: Path) -> None:
    out = tmp_path / "gfi.zip"
    write_package(out, app_id=APP_ID)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(zf.read("manifest.json"))["id"] == APP_ID
        assert _png_size(zf.read("color.png"))[:2] == (192, 192)
        assert _png_size(zf.read("outline.png")) == (32, 32, 6)  # RGBA: transparent outline


def check_card(card: dict) -> None:
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    ids: list[str] = []
    for node in nodes(card):
        kind = node.get("type")
        if kind is not None and kind != "AdaptiveCard":
            assert kind in ELEMENTS | ACTIONS, kind
        if kind == "Action.Execute":
            assert node["verb"] in VERBS and isinstance(node["data"], dict) and node["title"]
        if isinstance(kind, str) and kind.startswith("Input."):
            ids.append(node["id"])
        if kind == "TextBlock":
            raise AssertionError("TextBlock reads Markdown: use RichTextBlock/TextRun")
    assert len(ids) == len(set(ids)), "input ids are unique on a card"
    assert len(json.dumps(card)) < 28_000  # Teams' card size limit


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def test_every_offer_becomes_an_execute_action_named_by_the_offer(renderer: Renderer) -> None:
    with_item = {"take_over", "nudge", "reassign", "complete_follow_up"}
    offers = tuple(Offer(v, ref="GFI-2026-0001", item=3 if v in with_item else None)
                   for v in sorted(VERBS - {"request"}))
    message = Message("assigned_to_you", "GFI-2026-0001 är fördelat till dig",
                      (Line("man, 45 år, [klicka](https://evil.example)", "Kort", free=True), Line("Tisdag")),
                      offers, "GFI-2026-0001", note="Hänvisa till referensen.")
    card = cards.message_card(renderer, message, "o7")
    check_card(card)
    executes = [a for a in actions_of(card) if a["type"] == "Action.Execute"]
    assert [a["verb"] for a in executes] == [o.action for o in offers]
    assert all(a["data"]["ref"] == "GFI-2026-0001" and a["data"]["card"] == "o7" for a in executes)
    # Teams shows six actions in a set: the first five, then one button that opens the rest
    assert len(card["actions"]) == 6 and card["actions"][-1]["type"] == "Action.ShowCard"
    assert "[klicka]" in json.dumps(card, ensure_ascii=False)  # kept as plain text in a TextRun


def test_text_card_and_forms_are_valid(renderer: Renderer) -> None:
    check_card(cards.text_card("Rad ett\nRad två", title="Titel"))
    form = cards.Form("request", "request", [
        cards.Field("enhet", "choice", [("beroende", "Beroende")], required=True),
        cards.Field("kort", "multiline", max_length=1000), cards.Field("samtycke", "toggle"),
        cards.Field("giltigt", "date", value="2027-01-01"), cards.Field("tid", "time"),
        cards.Field("omfattar", "choices", [("a", "A"), ("b", "B")], value="a")])
    check_card(cards.form_card(renderer, form, nonce="n", errors={"kort": "Fel", "_": "Allmänt"}))


def test_every_offered_action_has_a_teams_handler() -> None:
    """A card button names the offered action (bot/messages/actions.py): Teams must answer every one of them."""
    from bot.messages.actions import ACTIONS
    from handlers.teams.actions import FORM_VERBS, IMMEDIATE_VERBS

    assert set(ACTIONS) - {"open"} <= FORM_VERBS | IMMEDIATE_VERBS
    assert not IMMEDIATE_VERBS & FORM_VERBS


# Microsoft's published Teams manifest schemas ship in the npm package @microsoft/app-manifest, which
# scripts/setup installs into .venv/npm when npm is on the machine (it is on CI's).
MANIFEST_SCHEMA = (Path(__file__).resolve().parents[2] / ".venv" / "npm" / "node_modules" / "@microsoft"
                   / "app-manifest" / "build" / "json-schemas" / "teams")


def test_manifest_is_valid_against_microsofts_published_schema() -> None:
    import jsonschema

    from tests.tools import missing_tool

    m = manifest(APP_ID, "1.2.3")
    schema_file = MANIFEST_SCHEMA / f"v{m['manifestVersion']}" / "MicrosoftTeams.schema.json"
    if not schema_file.exists():
        missing_tool(f"the published Teams manifest schema {schema_file} is not installed (npm missing when "
                     "scripts/setup ran)")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(m))
    assert not errors, errors
    broken = {**m, "bots": [{**m["bots"][0], "scopes": ["nowhere"]}]}
    assert list(validator.iter_errors(broken)), "the schema must be able to refuse a manifest"
