"""Slack layouts rendered from `templates/messages/` (`*.blocks.json.j2`, `*.view.json.j2`): mrkdwn escaped and
fitted to Slack's limits (`limits.py`) with the Swedish notes of `_labels.j2`. The core's Renderer is
channel-neutral; everything Slack-specific about rendering is here."""

from __future__ import annotations

import functools
import json
import weakref
from collections.abc import Callable, Hashable
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateNotFound

from bot.channels.kept import KeptTexts
from bot.channels.slack import limits, typeahead
from bot.channels.slack.markup import escape_mrkdwn_objects
from bot.directory.lookup import Tables
from bot.rendering import TEMPLATE_DIR, Renderer

# A layout that lists items (e.g. the queue) reads `list_max`; while the message does not fit Slack's limits
# it is rendered again with the next, smaller value ("… och N till" names the rest).
LIST_STEPS = (10, 5, 3, 2, 1)


@functools.cache
def slack_notes(template_dir: Path = TEMPLATE_DIR) -> limits.Notes:
    """The Swedish notes added where Slack's limits cut something (`CUT` in `_labels.j2`)."""
    labels = Environment(loader=FileSystemLoader(str(template_dir))).get_template("_labels.j2").module
    cuts = labels.CUT  # type: ignore[attr-defined]
    return limits.Notes(cut=cuts["text"], more=cuts["more"])


def _notes(renderer: Renderer) -> limits.Notes:
    cuts = renderer.labels.CUT
    return limits.Notes(cut=cuts["text"], more=cuts["more"])


def render_blocks(renderer: Renderer, name: str, **ctx: Any) -> list[dict[str, Any]] | None:
    """Render `<name>.blocks.json.j2` to a Block Kit list within Slack's limits, mrkdwn escaped, or None if
    the message has no layout. A list too long for one message is shortened (`list_max`, see LIST_STEPS)."""
    try:
        template = renderer.env.get_template(f"{name}.blocks.json.j2")
    except TemplateNotFound:
        return None
    notes = _notes(renderer)

    def render(**extra: Any) -> list[dict[str, Any]]:
        data = json.loads(template.render(**ctx, **extra))
        blocks = data if isinstance(data, list) else data["blocks"]
        return limits.fit_fields(escape_mrkdwn_objects(blocks), notes)

    blocks = render()
    if "list_max" not in ctx:
        for list_max in LIST_STEPS:
            if limits.fits(blocks):
                break
            blocks = render(list_max=list_max)
    return limits.fit_blocks(blocks, notes)


def render_raw_view(renderer: Renderer, name: str, **ctx: Any) -> dict[str, Any]:
    """Render `<name>.view.json.j2` with mrkdwn escaped but not yet fitted to Slack's limits."""
    view: dict[str, Any] = json.loads(renderer.env.get_template(f"{name}.view.json.j2").render(**ctx))
    return escape_mrkdwn_objects(view)


def fit_view(renderer: Renderer, view: dict[str, Any]) -> dict[str, Any]:
    """A rendered view within Slack's limits (see bot/channels/slack/limits.py)."""
    return limits.fit_view(view, _notes(renderer))


def render_view(renderer: Renderer, name: str, **ctx: Any) -> dict[str, Any]:
    """Render a Slack view (modal or Home tab) from `<name>.view.json.j2`, escaped and within limits (a long
    units list becomes a typeahead, see typeahead.py)."""
    return fit_view(renderer, typeahead.long_lists(render_raw_view(renderer, name, **ctx)))


# Where the text goes in the info modal's shell (`info_view`): no text shown to anyone holds it.
_TEXT = "\x00gfi-info-text\x00"
# Per renderer: the shell as rendered, and, when the text goes only into the plain text of section blocks, the
# shell already escaped and fitted (a text within a section's limit then changes nothing else: put in as it is).
_INFO_SHELLS: weakref.WeakKeyDictionary[Renderer, tuple[dict[str, Any], dict[str, Any] | None]] = (
    weakref.WeakKeyDictionary())


def _put_text(node: Any, text: str) -> Any:
    """A copy of `node` with `text` wherever the shell has `_TEXT`."""
    if isinstance(node, dict):
        return {k: _put_text(v, text) for k, v in node.items()}
    if isinstance(node, list):
        return [_put_text(v, text) for v in node]
    return text if node == _TEXT else node


def _only_in_plain_sections(view: dict[str, Any]) -> bool:
    """Whether `_TEXT` appears in the view only as the plain text of section blocks (and once at least)."""
    sections = [b.get("text") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "section"]
    found = sum(1 for t in sections if isinstance(t, dict) and t.get("type") == "plain_text" and t.get("text") == _TEXT)
    return found > 0 and json.dumps(view).count(json.dumps(_TEXT)[1:-1]) == found


def info_view(renderer: Renderer, text: str) -> dict[str, Any]:
    """`render_view(renderer, "slack_info", text=text)`, the same view: the modal with one text in place of a form
    (a filed request's receipt, a refusal, "it takes longer"), shown in the ack of most submissions. Its template
    is rendered (and its JSON read back, escaped and fitted) once per renderer with a marker where the text goes;
    each call puts the text in a copy of that shell (a text longer than a section holds is fitted again)."""
    shells = _INFO_SHELLS.get(renderer)
    if shells is None:
        raw: dict[str, Any] = json.loads(renderer.env.get_template("slack_info.view.json.j2").render(text=_TEXT))
        whole = fit_view(renderer, typeahead.long_lists(escape_mrkdwn_objects(_put_text(raw, _TEXT))))
        shells = _INFO_SHELLS[renderer] = (raw, whole if _only_in_plain_sections(whole) else None)
    shell, fitted = shells
    if fitted is not None and len(text) <= limits.SECTION_TEXT:
        return _put_text(fitted, text)  # type: ignore[no-any-return]
    return fit_view(renderer, typeahead.long_lists(escape_mrkdwn_objects(_put_text(shell, text))))


# --- a view rendered once, sent many times ------------------------------------------------------------------------

class Encoded(dict[str, Any]):
    """A view with its JSON text: the Web API session splices the text into a request's body (`json_serialize`)
    instead of encoding the view again. Made for one request and never changed (the text would be stale); any
    other JSON encoder sees the view itself, as a dict."""

    __slots__ = ("text",)

    def __init__(self, view: dict[str, Any], text: str | None = None) -> None:
        super().__init__(view)
        self.text = json.dumps(view) if text is None else text

    @classmethod
    def of_text(cls, text: str) -> Encoded:
        """The view encoded as `text`."""
        return cls(json.loads(text), text)


def json_serialize(body: Any) -> str:
    """The Web API session's JSON encoder (aiohttp's `json_serialize`): `json.dumps`, with an `Encoded` value of
    the body's top level (`views.open(view=…)`) taken as its text. The same JSON as `json.dumps(body)`."""
    if type(body) is not dict or not any(type(v) is Encoded for v in body.values()):
        return json.dumps(body)
    parts = (f"{json.dumps(k)}: {v.text if type(v) is Encoded else json.dumps(v)}" for k, v in body.items())
    return "{" + ", ".join(parts) + "}"


class ViewCache(KeptTexts):
    """Views kept as their JSON text (`bot.channels.kept.KeptTexts`): rendered once per key, directory version and
    day; each use reads the text back (`Encoded.of_text`, for the one request). For the /gfi form, which a person
    opens many times a day: rendering it (the template, its JSON read back, escaped and fitted to Slack's limits)
    and encoding it cost more CPU than the rest of the command together."""

    def get(self, tables: Tables, day: date, key: Hashable, build: Callable[[], dict[str, Any]]) -> Encoded:
        """The view for `key` under these tables on `day`: kept, or built now by `build()` and kept."""
        built: list[Encoded] = []

        def encoded() -> str:
            view = Encoded(build())
            built.append(view)
            return view.text

        text = self.text(tables, day, key, encoded)
        return built[0] if built else Encoded.of_text(text)
