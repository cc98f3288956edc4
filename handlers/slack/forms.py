"""Slack's view state turned into form values (`view_values`), and field errors onto a modal's blocks. No Slack,
no I/O: unit-testable.

Every input block of our modals has `block_id` = the service's field key (enhet, typ, kort, …) and one
element with `action_id` "v". The values are parsed by the channel-neutral parsers of `bot/forms.py`, whose
names still import from here.
"""

from __future__ import annotations

from typing import Any

from bot.forms import (
    WHOLE_CONSENT,
    AssignForm,
    BookForm,
    ErrorMap,
    FollowUpForm,
    OutcomeForm,
    ParticipantsForm,
    RenewForm,
    WaitForm,
    _date,
    _list,
    _raw_text,
    _text,
    _wrong_type,
    merge,
    parse_appointee,
    parse_assign,
    parse_book,
    parse_close,
    parse_follow_up,
    parse_hold_now,
    parse_new_contact,
    parse_one_text,
    parse_open_follow_ups,
    parse_outcome,
    parse_participants,
    parse_renew,
    parse_request,
    parse_wait,
    parse_withdraw,
)

# The parsers moved to bot/forms.py (channel-neutral); their names still import from here.
__all__ = [
    "WHOLE_CONSENT",
    "WRONG_TYPE",
    "AssignForm",
    "BookForm",
    "ErrorMap",
    "FollowUpForm",
    "OutcomeForm",
    "ParticipantsForm",
    "PayloadError",
    "RenewForm",
    "WaitForm",
    "_date",
    "_list",
    "_raw_text",
    "_text",
    "_wrong_type",
    "element_value",
    "errors_for_view",
    "merge",
    "parse_appointee",
    "parse_assign",
    "parse_book",
    "parse_close",
    "parse_follow_up",
    "parse_hold_now",
    "parse_new_contact",
    "parse_one_text",
    "parse_open_follow_ups",
    "parse_outcome",
    "parse_participants",
    "parse_renew",
    "parse_request",
    "parse_wait",
    "parse_withdraw",
    "view_values",
]


class PayloadError(ValueError):
    """The payload lacks what every payload of its kind has (a malformed or foreign request)."""


class _WrongType:
    """An element state of the wrong shape: every parse function reports it as `wrong_type`."""

    def __repr__(self) -> str:
        return "WRONG_TYPE"


WRONG_TYPE: Any = _WrongType()


def element_value(state: dict[str, Any]) -> Any:
    """The value of one element state: str, list of str, None, or WRONG_TYPE when malformed."""
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = state.get("selected_option")
        if option is None:
            return None
        return option.get("value") if isinstance(option, dict) else WRONG_TYPE
    if kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        options = state.get("selected_options") or []
        if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
            return WRONG_TYPE
        return [o.get("value") for o in options if o.get("value")]
    if kind == "datepicker":
        return state.get("selected_date")
    if kind == "timepicker":
        return state.get("selected_time")
    if kind == "users_select":
        return state.get("selected_user")
    if kind == "multi_users_select":
        users = state.get("selected_users") or []
        return list(users) if isinstance(users, list) else WRONG_TYPE
    return state.get("value")


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """{block_id: value} of a submitted view (the first element of each block)."""
    if not isinstance(view, dict):
        raise PayloadError("view")
    raw = ((view.get("state") or {}).get("values")) or {}
    if not isinstance(raw, dict):
        raise PayloadError("state")
    out: dict[str, Any] = {}
    for block_id, elements in raw.items():
        if isinstance(elements, dict) and elements:
            first = next(iter(elements.values()))
            if isinstance(first, dict):
                out[block_id] = element_value(first)
    return out


def errors_for_view(messages: dict[str, str], blocks: set[str], fallback: str) -> dict[str, str]:
    """{field: text} → {block_id: text}; fields without a block of their own land on `fallback`."""
    out: dict[str, str] = {}
    for key, text in messages.items():
        block = key if key in blocks else fallback
        out[block] = f"{out[block]} {text}" if block in out else text
    return out
