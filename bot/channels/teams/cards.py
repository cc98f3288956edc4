"""Adaptive Cards for Teams, rendered from the channel-neutral `Message` and from form descriptions.

Every text is a `TextRun` inside a `RichTextBlock`: a TextRun is never read as Markdown, so free text typed by a
user (a brief, a place, a contact) cannot become a link or a heading. Offers become `Action.Execute` (Universal
Actions) whose verb is the offer's action name and whose data names the case (`ref`), the item, and the card
(`card`, so that a double click on one card acts once). Swedish words come from the templates: labels from
`_labels.j2`, form and answer texts from `teams_*.j2`.

Schema version 1.5: what Teams renders on desktop and mobile.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from microsoft_agents.activity import Attachment

from bot.channels.kept import KeptTexts
from bot.channels.teams import limits, listing
from bot.directory.lookup import Tables
from bot.messages.actions import ACTIONS, OPEN_CASE
from bot.messages.model import Line, Message, Offer
from bot.rendering import TEMPLATE_DIR, Renderer

VERSION = limits.VERSION
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_TEXT = limits.TEXT_RUN
SEARCH = "application/search"  # the invoke of a dynamic typeahead (Data.Query)


@functools.cache
def teams_notes(template_dir: Path = TEMPLATE_DIR) -> limits.Notes:
    """The Swedish notes added where Teams' limits cut something (`TEAMS_CUT` in `_labels.j2`)."""
    labels = Environment(loader=FileSystemLoader(str(template_dir))).get_template("_labels.j2").module
    cuts = labels.TEAMS_CUT  # type: ignore[attr-defined]
    return limits.Notes(cut=cuts["text"], more=cuts["more"], more_actions=cuts["more_actions"])
DANGER = frozenset({"withdraw_consent", "withdraw_consent_form"})


def new_nonce() -> str:
    return uuid.uuid4().hex[:16]


def run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}  # cut with a note by limits.fit_card


def rich(*runs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **extra}


def plain(text: str, **style: Any) -> dict[str, Any]:
    """One paragraph of plain (never Markdown) text."""
    return rich(run(text, **style))


def line_block(line: Line) -> dict[str, Any]:
    if line.label:
        return rich(run(f"{line.label}: ", weight="bolder"), run(line.text))
    return plain(line.text)


def raw_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The card as built, before `limits.fit_card` (to measure whether a list must be shorter)."""
    out: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    return out


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, *,
         refresh: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole card within Teams' limits (`limits.fit_card`); `refresh`: Universal Actions' refresh block."""
    out: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    if refresh:
        out["refresh"] = refresh
    return limits.fit_card(out, teams_notes())


def refresh_block(verb: str, data: dict[str, Any], user_ids: list[str]) -> dict[str, Any]:
    """Universal Actions' refresh: Teams asks the bot for a fresh card (`verb`) when one of `user_ids` (at most
    60) looks at it; anyone else sees the card as it was sent."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "userIds": user_ids[:60]}


def more_line(text: str) -> dict[str, Any]:
    """The "… och N till" line under a capped list."""
    return plain(text, isSubtle=True, size="small")


def attachment(content: dict[str, Any]) -> Attachment:
    """An Adaptive Card as an activity attachment."""
    return Attachment(content_type=CONTENT_TYPE, content=content)


def execute(title: str, verb: str, data: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Execute", "title": title[:80], "verb": verb, "data": data}
    if style:
        action["style"] = style
    return action


def dialog_button(title: str, dialog: str) -> dict[str, Any]:
    """A button that opens a form as a Teams dialog (Teams sends `task/fetch`, handlers/teams/dialogs.py)."""
    return {"type": "Action.Submit", "title": title, "data": {"msteams": {"type": "task/fetch"}, "dialog": dialog}}


def open_url(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def offer_label(renderer: Renderer, action: str) -> str:
    """The button label of an action, from the shared actions table (bot/messages/actions.py)."""
    return ACTIONS[action].label


def offer_action(renderer: Renderer, offer: Offer, nonce: str) -> dict[str, Any]:
    data: dict[str, Any] = {"ref": offer.ref, "card": nonce}
    if offer.item is not None:
        data["item"] = offer.item
    style = "destructive" if offer.action in DANGER else ("positive" if offer.primary else None)
    return execute(offer_label(renderer, offer.action), offer.action, data, style=style)


def message_card(renderer: Renderer, message: Message, nonce: str) -> dict[str, Any]:
    """A channel-neutral message as a card: title, lines, note, one Action.Execute per offer. A list (the
    queue) gets one container per entry with its button, shortened until the card fits (`listing`)."""
    # "open the case" needs no button in Teams: the card in the chat is the case
    if listing.is_list(message):
        return _list_card(renderer, message, nonce)
    body: list[dict[str, Any]] = [plain(message.title, weight="bolder", size="medium")]
    body += [line_block(ln) for ln in message.lines]
    if message.note:
        body.append(plain(message.note, isSubtle=True, size="small"))
    actions = [offer_action(renderer, o, nonce) for o in message.offers if o.action != OPEN_CASE]
    return card(body, actions)


def _list_card(renderer: Renderer, message: Message, nonce: str) -> dict[str, Any]:
    item_refs = {ln.ref for ln in message.lines if ln.style == "item"}
    rest = [offer_action(renderer, o, nonce) for o in message.offers
            if o.ref not in item_refs and o.action != OPEN_CASE]
    notes = teams_notes()

    def build(list_max: int | None) -> dict[str, Any]:
        body, _ = listing.list_body(
            message, plain=plain, line_block=line_block, action=lambda o: offer_action(renderer, o, nonce),
            more=lambda n: renderer.macro("teams", "list_more", count=n), notes=notes, list_max=list_max)
        if message.note:
            body.append(plain(message.note, isSubtle=True, size="small"))
        return raw_card(body, rest)

    for list_max in listing.LIST_STEPS:
        out = build(list_max)
        if limits.fits(out):
            break
    return limits.fit_card(out, notes)


def text_card(text: str, *, title: str | None = None, actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Plain text (a rendered text template) as a card: one paragraph per line."""
    body: list[dict[str, Any]] = []
    if title:
        body.append(plain(title, weight="bolder", size="medium"))
    body += [plain(p) for p in (text.split("\n") if text else [""]) if p.strip()] or [plain(text or "")]
    return card(body, actions)


# --- forms ---------------------------------------------------------------------------------------


@dataclass
class Field:
    """One input of a form. `kind`: text, multiline, choice, choices (multi), toggle, date, time."""

    key: str
    kind: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str | None = None
    required: bool = False
    max_length: int | None = None
    expanded: bool = False  # radio buttons / checkboxes rather than a drop-down
    dataset: str | None = None  # "units" or "staff:<unit>": a dynamic typeahead when the list is long
    dynamic: bool = False  # with a dataset: a dynamic typeahead however short the list (a list shown elsewhere)


@dataclass
class Form:
    """A form on a card: the verb it submits with, the case it is about, its fields."""

    name: str  # the template section in teams_forms.j2 (title, intro, hints, submit label)
    verb: str
    fields: list[Field]
    ref: str | None = None
    item: int | None = None
    suffix: str = ""  # input ids carry it when one card holds several forms (the queue)
    extra: dict[str, Any] = field(default_factory=dict)

    def input_id(self, key: str) -> str:
        return f"{key}__{self.suffix}" if self.suffix else key


TEXTS = "teams_forms.j2"


def _texts(renderer: Renderer) -> Any:
    return renderer.env.get_template(TEXTS).make_module(vars={"L": renderer.labels})


def form_body(renderer: Renderer, form: Form, errors: dict[str, str] | None = None,
              values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The inputs of a form (labels from `_labels.j2`, hints from `teams_forms.j2`), each followed by its error."""
    texts = _texts(renderer)
    hints: dict[str, str] = dict(getattr(texts, "HINTS", {}))
    labels: dict[str, str] = dict(renderer.labels.FIELDS)
    toggles: dict[str, str] = dict(getattr(texts, "TOGGLES", {}))
    errors = errors or {}
    values = values or {}
    body: list[dict[str, Any]] = []
    for f in form.fields:
        input_id = form.input_id(f.key)
        value = values.get(f.key, f.value)
        label = labels.get(f.key, f.key)
        element: dict[str, Any] = {"id": input_id, "label": label, "isRequired": f.required}
        if f.required:
            element["errorMessage"] = renderer.macro("fields", "required", field=f.key)
        if f.kind in ("text", "multiline"):
            element.update(type="Input.Text", isMultiline=f.kind == "multiline")
            if f.max_length:
                element["maxLength"] = f.max_length
        elif f.kind in ("choice", "choices"):
            element.update(choice_set(f, value))
        elif f.kind == "toggle":
            element.update(type="Input.Toggle", title=toggles.get(f.key, label), valueOn="ja", valueOff="")
        elif f.kind == "date":
            element["type"] = "Input.Date"
        elif f.kind == "time":
            element["type"] = "Input.Time"
        if value not in (None, "", []):
            element["value"] = ",".join(value) if isinstance(value, list) else str(value)
        if f.key in hints:
            body.append(plain(hints[f.key], isSubtle=True, size="small"))
        body.append(element)
        if f.key in errors:
            body.append(plain(errors[f.key], color="attention", size="small"))
    return body


def choice_set(f: Field, value: Any) -> dict[str, Any]:
    """An `Input.ChoiceSet`: a long list of the directory's units or staff as a dynamic typeahead (the card
    holds only what is chosen; Teams asks `application/search` as the person types), a long static list
    filtered (typeahead in the card)."""
    chosen = set(value if isinstance(value, list) else str(value or "").split(","))
    out: dict[str, Any] = {"type": "Input.ChoiceSet", "isMultiSelect": f.kind == "choices",
                           "style": "expanded" if f.expanded else "compact"}
    # a dynamic typeahead also with no choices at all: a static set of none is invalid
    if f.dataset and (f.dynamic or len(f.choices) > limits.DYNAMIC_CHOICES or not f.choices):
        out["choices"] = [{"title": t, "value": v} for v, t in f.choices if v in chosen]
        out["choices.data"] = {"type": "Data.Query", "dataset": f.dataset, "count": limits.SEARCH_RESULTS}
        out["style"] = "filtered"
        return out
    out["choices"] = [{"title": t, "value": v} for v, t in f.choices]
    if len(f.choices) > limits.FILTERED_CHOICES and not f.expanded and f.kind == "choice":
        out["style"] = "filtered"
    return out


def form_card(renderer: Renderer, form: Form, *, nonce: str, errors: dict[str, str] | None = None,
              values: dict[str, Any] | None = None, intro: list[str] | None = None) -> dict[str, Any]:
    """A whole card holding one form: title, intro lines, the general error, the inputs, the submit action."""
    texts = _texts(renderer)
    titles: dict[str, str] = dict(texts.TITLES)
    submits: dict[str, str] = dict(texts.SUBMITS)
    body: list[dict[str, Any]] = [plain(titles.get(form.name, form.name).replace("{ref}", form.ref or ""),
                                        weight="bolder", size="medium")]
    body += [plain(t) for t in intro or []]
    general = (errors or {}).get("_")
    if general:
        body.append(plain(general, color="attention"))
    body += form_body(renderer, form, errors, values)
    data: dict[str, Any] = {"ref": form.ref, "card": nonce, "submit": True, **form.extra}
    if form.item is not None:
        data["item"] = form.item
    return card(body, [execute(submits.get(form.name, submits["default"]), form.verb, data, style="positive")])


# Where a kept form card's nonce goes (`kept_form_card`): a nonce of its own, drawn once, so that the card is
# measured against Teams' size budget (`limits.fit_card`) as it is sent. A marker of another length would cut a card
# near the budget elsewhere than the card rendered anew (its last fields for the whole day). A form holding it is
# not kept (the marker found twice).
_NONCE = json.dumps(new_nonce())


class _NotKept(Exception):
    """A card whose nonce cannot be put in by its marker alone (a text of the form holds the marker)."""


def kept_form_card(kept: KeptTexts, tables: Tables, day: date, key: Hashable, renderer: Renderer,
                   form: Callable[[], Form], *, nonce: str) -> dict[str, Any]:
    """`form_card(renderer, form(), nonce=nonce)`, the same card, for a form that depends only on the directory's
    version, the day and `key` (the request form: the person): rendered once each and kept as its JSON text with
    a marker where the card's nonce goes (`bot.channels.kept.KeptTexts`); each use reads that text back with its
    own nonce (a double click on one card acts once: never two cards with one nonce)."""
    def make() -> str:
        text = json.dumps(form_card(renderer, form(), nonce=json.loads(_NONCE)))
        if text.count(_NONCE) != 1:
            raise _NotKept
        return text

    if len(json.dumps(nonce)) != len(_NONCE):  # not one of `new_nonce`'s (a dialog's data may hold anything)
        return form_card(renderer, form(), nonce=nonce)
    try:
        text = kept.text(tables, day, key, make)
    except _NotKept:
        return form_card(renderer, form(), nonce=nonce)
    return json.loads(text.replace(_NONCE, json.dumps(nonce)))  # type: ignore[no-any-return]


def form_card_again(renderer: Renderer, form: Form, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The same form after a refused submit: the user's values kept, each error under its field and those of
    no field of this form together at the top."""
    keys = {f.key for f in form.fields}
    shown = {k: v for k, v in errors.items() if k in keys}
    rest = [v for k, v in errors.items() if k not in keys]
    if rest:
        shown["_"] = " ".join(rest)
    values = {k: v for k, v in data.items() if k in keys}
    return form_card(renderer, form, nonce=new_nonce(), errors=shown, values=values)


def dumps(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False)
