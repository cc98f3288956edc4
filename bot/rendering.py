"""Render every user-visible text from `templates/messages/` (Jinja2, Swedish by default).

Channel-neutral: Slack's layouts (Block Kit, views, limits) are rendered by `bot.channels.slack.views`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.config import PROJECT_ROOT
from bot.directory import Directory
from bot.errors import FieldError, Refusal
from bot.folding import without_bidi_controls
from bot.near import near
from bot.privacy import find_identity_numbers
from bot.shorten import cut

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "messages"
_WEEKDAYS = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"]
_MONTHS = ["jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec"]
# Refusal and field-error codes about a person or unit that does not exist: they get near matches (`near`).
_UNKNOWN_PERSON = frozenset({"unknown_assignee", "unknown_person", "absence_unknown_person",
                             "absence_stand_in_unknown"})
_UNKNOWN_UNIT = frozenset({"unknown_unit"})
# How much of a value the user typed an error message repeats (the `eko` filter).
ECHO_MAX = 60


def mask_identity_numbers(text: str, today: date) -> str:
    """`text` with every identity number in it (also disguised, also with a wrong check digit) replaced by
    "[personnummer]" or "[samordningsnummer]"."""
    for m in reversed(find_identity_numbers(text, today)):
        text = f"{text[: m.start]}[{m.kind}]{text[m.end :]}"
    return text


def echo(value: object, today: date, limit: int = ECHO_MAX) -> str:
    """A value the user typed, safe to repeat in an error message: identity numbers masked, on one line, at
    most `limit` characters (cut with "…"), bidi controls removed."""
    typed = without_bidi_controls("" if value is None else str(value))  # shown as stored, never reordered
    text = " ".join(mask_identity_numbers(typed, today).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _record(fields: dict[str, Any]) -> str:
    """One record of a message's description as its template writes it (`bot.messages.describe.records`): JSON
    on a line of its own, as `_msg.j2`'s macros write it (`json`: `json.dumps(…, ensure_ascii=False)`)."""
    return json.dumps(fields, ensure_ascii=False) + "\n"


# The filters a `.msg.j2` template writes its records with, `{% filter m_line("Till") %}…{% endfilter %}`: the
# block's text, trimmed, as the record of that kind. They write what `_msg.j2`'s macros (`{% call m.line("Till")
# %}…{% endcall %}`) write, byte for byte (tests/unit/test_message_records.py), for less: a call block is two
# macro calls (the macro and its caller), each through Jinja's argument handling, where a filter block is one
# function call on the block's text (about a third of describing a receipt, issue #21 item 2).
RECORD_FILTERS: dict[str, Callable[..., str]] = {
    "m_title": lambda text: _record({"k": "title", "text": text.strip()}),
    "m_line": lambda text, label=None: _record({"k": "line", "label": label, "text": text.strip()}),
    "m_free": lambda text, label=None: _record({"k": "line", "label": label, "text": text.strip(), "free": True}),
    "m_note": lambda text: _record({"k": "note", "text": text.strip()}),
    "m_heading": lambda text: _record({"k": "line", "style": "heading", "text": text.strip()}),
    "m_context": lambda text: _record({"k": "line", "style": "context", "text": text.strip()}),
    "m_item": lambda text, ref: _record({"k": "line", "style": "item", "ref": ref, "text": text.strip()}),
    "m_more": lambda text, n: _record({"k": "line", "style": "more", "ref": str(n), "text": text.strip()}),
    "m_extra": lambda text, key: _record({"k": "extra", "key": key, "text": text.strip()}),
}


def _masked_params(params: dict[str, Any], today: date) -> dict[str, Any]:
    def mask(v: Any) -> Any:
        if isinstance(v, str):
            return mask_identity_numbers(v, today)
        if isinstance(v, list | tuple):
            return type(v)(mask(x) for x in v)
        return v

    return {k: mask(v) for k, v in params.items()}


class Renderer:
    """Turns template names and context into Swedish text (and, for the channels, JSON layouts)."""

    def __init__(self, directory: Directory, tz: str = "Europe/Stockholm", template_dir: Path = TEMPLATE_DIR,
                 today: Callable[[], date] | None = None):
        self.directory = directory
        self.tz = ZoneInfo(tz)
        # the date that decides the century of a 10-digit identity number in `echo` (the core's clock)
        self.today: Callable[[], date] = today or (lambda: datetime.now(self.tz).date())
        self.env = Environment(
            loader=FileSystemLoader(str(template_dir)),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
            # the templates are a fixed set, compiled once (`compile_all`): kept in a plain dict, not Jinja's
            # LRU cache, which moves a template to its end at every look-up by a search through all of them (a
            # message's template and each template it imports, at every render)
            cache_size=-1,
        )
        self.env.filters.update(
            datum=self.format_date,
            tid=self.format_datetime,
            klockslag=self.format_clock,
            person=self.directory.name,
            person_titel=self.directory.name_with_title,
            titel_person=self.directory.title_and_name,
            versal=lambda v: str(v)[:1].upper() + str(v)[1:],  # capital first letter, the rest as written
            enhet=self.directory.unit_name,
            json=lambda v: json.dumps(v, ensure_ascii=False),
            antal=lambda n: f"{int(n):,}".replace(",", " "),  # 1234 → "1 234", as Swedish writes numbers
            forkorta=self.shorten,
            eko=lambda v, limit=ECHO_MAX: echo(v, self.today(), limit),
            # the registered absence covering a person now (bot/absence), or None
            franvaro=lambda pid: self.directory.absences.current(pid),
        )
        self.env.filters.update(RECORD_FILTERS)
        # the sets and macros `_labels.j2` exports (a Jinja TemplateModule: its attributes exist only at run time)
        self.labels: Any = self.env.get_template("_labels.j2").module
        self.env.globals.update(L=self.labels)

    def compile_all(self) -> int:
        """Compile every template now (a running bot calls it once at start, off the event loop), and stop
        looking for changed files: the first sweep after start then renders, it does not compile, and no render
        asks the disk whether its template changed. Returns how many templates were compiled."""
        names = self.env.list_templates(filter_func=lambda name: name.endswith(".j2"))
        for name in names:
            self.env.get_template(name)
        self.env.auto_reload = False
        return len(names)

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
        return cut(value or "", limit, str(self.labels.CUT["text"]) if note is None else note)

    # --- rendering --------------------------------------------------------------------------
    def render(self, name: str, **ctx: Any) -> str:
        """Render `<name>.txt.j2` to text."""
        return self.env.get_template(f"{name}.txt.j2").render(**ctx).strip()

    def macro(self, group: str, name: str, **ctx: Any) -> str:
        """Call macro `name` of `<group>.j2` (short texts such as refusals and field errors)."""
        module = self.env.get_template(f"{group}.j2").make_module(vars={"L": self.labels})
        fn = getattr(module, name, None)
        if fn is None:
            raise KeyError(f"no macro {name!r} in {group}.j2")
        accepted = {k: v for k, v in ctx.items() if fn.catch_kwargs or k in fn.arguments}
        return str(fn(**accepted)).strip()

    def refusal(self, exc: Refusal, *, channel: str | None = None) -> str:
        """The Swedish explanation of a refusal. Values the user typed are repeated through the `eko` filter;
        as a backstop no parameter can carry an identity number into the text. `channel` "console": a refusal
        that points elsewhere names the console's command; otherwise the chat's own way (a message's button)."""
        params = _masked_params(exc.params, self.today())
        return self.macro("refusals", exc.code, **params, near=self.near(exc.code, params), channel=channel)

    def field_errors(self, exc: FieldError, *, channel: str | None = None) -> dict[str, str]:
        """{field: Swedish message} for a rejected form (values the user typed: as in `refusal`). `channel`
        "console": a message that tells what to tick on a form says what to type instead."""
        today = self.today()
        out: dict[str, str] = {}
        for f, (code, raw) in exc.errors.items():
            params = _masked_params(raw, today)
            out[f] = self.macro("fields", code, **params, near=self.near(code, params), channel=channel)
        return out

    def near(self, code: str, params: dict[str, Any]) -> list[str]:
        """Near matches for an unknown person or unit that was typed ("Menade du …?"), else []."""
        if code in _UNKNOWN_PERSON and isinstance(params.get("person"), str):
            return near(params["person"], self.directory.people)
        if code in _UNKNOWN_UNIT and isinstance(params.get("unit"), str):
            return near(params["unit"], self.directory.units)
        return []

    def usage_error(self, group: str, name: str, **params: Any) -> str:
        """A console argument error (macro `name` of `<group>.j2`), masked as in `refusal`."""
        return self.macro(group, name, **_masked_params(params, self.today()))

    def label(self, table: str, key: str) -> str:
        """A label from `_labels.j2`, e.g. label("STATES", "requested")."""
        return str(getattr(self.labels, table).get(key, key))
