"""Render every user-visible text from `templates/messages/` (Jinja2, Swedish by default)."""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from bot.channels.slack import limits as slack_limits
from bot.channels.slack.markup import escape_mrkdwn_objects
from bot.config import PROJECT_ROOT
from bot.directory import Directory
from bot.errors import FieldError, Refusal

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "messages"
_WEEKDAYS = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"]
_MONTHS = ["jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec"]
# A layout that lists items (e.g. the queue) reads `list_max`; while the message does not fit Slack's limits
# it is rendered again with the next, smaller value ("… och N till" names the rest).
LIST_STEPS = (10, 5, 3, 2, 1)


@functools.cache
def slack_notes(template_dir: Path = TEMPLATE_DIR) -> slack_limits.Notes:
    """The Swedish notes added where Slack's limits cut something (`CUT` in `_labels.j2`)."""
    labels = Environment(loader=FileSystemLoader(str(template_dir))).get_template("_labels.j2").module
    cuts = labels.CUT  # type: ignore[attr-defined]
    return slack_limits.Notes(cut=cuts["text"], more=cuts["more"])


class Renderer:
    """Turns template names and context into Swedish text and Block Kit JSON."""

    def __init__(self, directory: Directory, tz: str = "Europe/Stockholm", template_dir: Path = TEMPLATE_DIR):
        self.directory = directory
        self.tz = ZoneInfo(tz)
        self.env = Environment(
            loader=FileSystemLoader(str(template_dir)),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
        )
        self.env.filters.update(
            datum=self.format_date,
            tid=self.format_datetime,
            klockslag=self.format_clock,
            person=self.directory.name,
            enhet=self.directory.unit_name,
            json=lambda v: json.dumps(v, ensure_ascii=False),
            forkorta=self.shorten,
        )
        self.labels = self.env.get_template("_labels.j2").module
        self.env.globals.update(L=self.labels)
        self.slack_notes = slack_notes(template_dir)

    # --- formatting -------------------------------------------------------------------------
    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def format_date(self, value: date | datetime | str) -> str:
        """`2026-11-24` → `tis 24 nov 2026`."""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if isinstance(value, datetime):
            value = self.local(value).date()
        return f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"

    def format_datetime(self, value: datetime) -> str:
        """An aware datetime as `tis 24 nov 2026 kl. 09:00` in local time."""
        local = self.local(value)
        return f"{self.format_date(local.date())} kl. {local:%H:%M}"

    def age(self, delta: timedelta) -> str:
        """How long something has waited, e.g. `2 dagar sedan` (text from `_labels.j2`)."""
        return str(self.labels.age(days=delta.days, hours=delta.seconds // 3600)).strip()

    def format_clock(self, value: datetime) -> str:
        return f"{self.local(value):%H:%M}"

    def shorten(self, value: str | None, limit: int, note: str | None = None) -> str:
        """Free text cut to `limit` characters with a note saying so (the `forkorta` filter)."""
        return slack_limits.cut(value or "", limit, self.slack_notes.cut if note is None else note)

    # --- rendering --------------------------------------------------------------------------
    def render(self, name: str, **ctx: Any) -> str:
        """Render `<name>.txt.j2` to text."""
        return self.env.get_template(f"{name}.txt.j2").render(**ctx).strip()

    def blocks(self, name: str, **ctx: Any) -> list[dict[str, Any]] | None:
        """Render `<name>.blocks.json.j2` to a Block Kit list within Slack's limits, mrkdwn escaped, or None if
        the message has no layout. A list too long for one message is shortened (`list_max`, see LIST_STEPS)."""
        try:
            template = self.env.get_template(f"{name}.blocks.json.j2")
        except TemplateNotFound:
            return None

        def render(**extra: Any) -> list[dict[str, Any]]:
            data = json.loads(template.render(**ctx, **extra))
            blocks = data if isinstance(data, list) else data["blocks"]
            return slack_limits.fit_fields(escape_mrkdwn_objects(blocks), self.slack_notes)

        blocks = render()
        if "list_max" not in ctx:
            for list_max in LIST_STEPS:
                if slack_limits.fits(blocks):
                    break
                blocks = render(list_max=list_max)
        return slack_limits.fit_blocks(blocks, self.slack_notes)

    def raw_view(self, name: str, **ctx: Any) -> dict[str, Any]:
        """Render `<name>.view.json.j2` with mrkdwn escaped but not yet fitted to Slack's limits."""
        return escape_mrkdwn_objects(json.loads(self.env.get_template(f"{name}.view.json.j2").render(**ctx)))

    def fit_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """A rendered view within Slack's limits (see bot/channels/slack/limits.py)."""
        return slack_limits.fit_view(view, self.slack_notes)

    def view(self, name: str, **ctx: Any) -> dict[str, Any]:
        """Render a Slack view (modal or Home tab) from `<name>.view.json.j2`, escaped and within limits."""
        return self.fit_view(self.raw_view(name, **ctx))

    def macro(self, group: str, name: str, **ctx: Any) -> str:
        """Call macro `name` of `<group>.j2` (short texts such as refusals and field errors)."""
        module = self.env.get_template(f"{group}.j2").make_module(vars={"L": self.labels})
        fn = getattr(module, name, None)
        if fn is None:
            raise KeyError(f"no macro {name!r} in {group}.j2")
        accepted = {k: v for k, v in ctx.items() if fn.catch_kwargs or k in fn.arguments}
        return str(fn(**accepted)).strip()

    def refusal(self, exc: Refusal) -> str:
        """The Swedish explanation of a refusal."""
        return self.macro("refusals", exc.code, **exc.params)

    def field_errors(self, exc: FieldError) -> dict[str, str]:
        """{field: Swedish message} for a rejected form."""
        return {f: self.macro("fields", code, **params) for f, (code, params) in exc.errors.items()}

    def label(self, table: str, key: str) -> str:
        """A label from `_labels.j2`, e.g. label("STATES", "requested")."""
        return str(getattr(self.labels, table).get(key, key))
