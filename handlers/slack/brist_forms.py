"""Pure parsing of the Slack brist-i-samverkan modal into the report service's form. No Slack, no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.brister.models import BristForm, parse_brist_ref
from bot.numerals import is_number
from handlers.slack.forms import ErrorMap


def _text(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    return value.strip() if isinstance(value, str) else ""


def _list(values: dict[str, Any], key: str) -> list[str]:
    value = values.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_brist(values: dict[str, Any]) -> tuple[BristForm, ErrorMap]:
    """The modal's values ({block_id: value}) → (BristForm, parse errors). The service checks the rest."""
    errors: ErrorMap = {}
    when: date | None = None
    raw = values.get("datum")
    if raw:
        try:
            when = date.fromisoformat(str(raw))
        except ValueError:
            errors["datum"] = ("bad_date", {"field": "datum", "value": str(raw)})
    form = BristForm(
        units=_list(values, "berorda"),
        causes=_list(values, "orsaker"),
        what=_text(values, "handelse"),
        measures=_text(values, "atgarder") or None,
        dialogue=_text(values, "dialog") or None,
        incident_date=when,
        case_ref=_text(values, "arende") or None,
    )
    return form, errors


def draft_id(private_metadata: str) -> int | None:
    """The draft a modal completes (`draft:3`), or None for a new report."""
    kind, _, number = (private_metadata or "").partition(":")
    return int(number) if kind == "draft" and is_number(number) else None


def parse_brist_text(values: dict[str, Any], field: str) -> tuple[str, ErrorMap]:
    """The measures or dialogue modal's text (block `text`) → (text, parse errors, keyed by the report's
    `field`: "atgarder" or "dialog"). The service checks the rest (personal identity numbers, length)."""
    text = _text(values, "text")
    errors: ErrorMap = {} if text else {field: ("required", {"field": field})}
    return text, errors


def report_ref(private_metadata: str) -> str | None:
    """The report a measures or dialogue modal is about (its BRIST-ÅÅÅÅ-NNNN), or None."""
    return parse_brist_ref(private_metadata or "")
