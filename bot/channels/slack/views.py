"""Slack layouts rendered from `templates/messages/` (`*.blocks.json.j2`, `*.view.json.j2`): mrkdwn escaped and
fitted to Slack's limits (`limits.py`) with the Swedish notes of `_labels.j2`. The core's Renderer is
channel-neutral; everything Slack-specific about rendering is here."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateNotFound

from bot.channels.slack import limits, typeahead
from bot.channels.slack.markup import escape_mrkdwn_objects
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
