"""Slack's limits, enforced in one place for every message and view the bot sends.

Every Block Kit payload passes through `fit_blocks` (messages) or `fit_view` (modals, App Home) and
every top-level message text through `fit_text`. Too-long free text is cut with a note, lists of more than
100 options become option groups, and blocks beyond what Slack accepts are replaced by one line saying so:
a long text or list never makes delivery fail. The functions are pure and idempotent.

Ids are checked, not repaired (`check_ids`): Slack refuses a view or message in which two elements of one
block share an `action_id` or two blocks share a `block_id` (`invalid_blocks`). A handler and a form's state
are keyed by these ids, so renaming one here would break what it is read by; a duplicate is a layout bug,
raised as `DuplicateId` when the layout is fitted, so every test that renders a layout finds it.

Figures: Slack's Block Kit reference and the limits slack_sdk's models validate. Two are stricter than the
reference on purpose: Slack refuses a message whose blocks hold about 12,000 characters in all
(`msg_blocks_too_long`, undocumented, seen from 2025), and answers `msg_too_long` to a top-level text of a
few thousand characters although the reference still says 40,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.shorten import SHORT as _SHORT
from bot.shorten import cut

SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
OPTION_TEXT = 75
OPTION_DESCRIPTION = 75
OPTION_GROUP_LABEL = 75
SELECT_OPTIONS = 100  # per static select, and per option group
SELECT_OPTION_GROUPS = 100
PLACEHOLDER = 150
INPUT_LABEL = 2000
INPUT_HINT = 2000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
VIEW_TITLE = 24  # title, submit and close of a modal
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_BLOCK_CHARS = 10_000  # all texts of a message's blocks together (Slack refuses about 12,000)
MESSAGE_TEXT = 4000  # top-level text of a message without blocks (the reference says 40,000: see above)
FALLBACK_TEXT = 3000  # top-level text of a message with blocks: only the notification and fallback
MESSAGE_TOTAL = 40_000  # Slack's documented ceiling for a whole message; the figures above stay below it

_LONG_FIELD = 1000  # fields at least this long get the full note


@dataclass(frozen=True)
class Notes:
    """The Swedish notes (from templates/messages/_labels.j2) added where something was cut."""

    cut: str = " …"  # appended to free text that was shortened
    more: str = "…"  # a context line in place of the blocks that did not fit



def _text(obj: Any, limit: int, notes: Notes) -> None:
    """Cut a text object's text in place."""
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = cut(obj["text"], limit, notes.cut if limit >= _LONG_FIELD else _SHORT)


def _option(option: Any, notes: Notes) -> None:
    if isinstance(option, dict):
        _text(option.get("text"), OPTION_TEXT, notes)
        _text(option.get("description"), OPTION_DESCRIPTION, notes)


def _group_label(options: list[dict[str, Any]]) -> str:
    """`first – last` option text of a group, at most OPTION_GROUP_LABEL characters."""
    first = str(options[0].get("text", {}).get("text", ""))
    last = str(options[-1].get("text", {}).get("text", ""))
    half = (OPTION_GROUP_LABEL - 3) // 2
    return first if first == last else f"{cut(first, half)} – {cut(last, half)}"


def _options(element: dict[str, Any], notes: Notes) -> None:
    """Cut option texts; a select with more than 100 options gets them in groups of at most 100."""
    for option in element.get("options") or []:
        _option(option, notes)
    for option in element.get("initial_options") or []:
        _option(option, notes)
    _option(element.get("initial_option"), notes)
    for group in element.get("option_groups") or []:
        _text(group.get("label"), OPTION_GROUP_LABEL, notes)
        for option in group.get("options") or []:
            _option(option, notes)
        group["options"] = (group.get("options") or [])[:SELECT_OPTIONS]
    options = element.get("options")
    if element.get("type") in ("static_select", "multi_static_select") and isinstance(options, list) \
            and len(options) > SELECT_OPTIONS:
        chunks = [options[i:i + SELECT_OPTIONS] for i in range(0, len(options), SELECT_OPTIONS)]
        del element["options"]
        element["option_groups"] = [
            {"label": {"type": "plain_text", "text": _group_label(chunk)}, "options": chunk}
            for chunk in chunks[:SELECT_OPTION_GROUPS]
        ]
    elif isinstance(options, list) and element.get("type") not in ("static_select", "multi_static_select"):
        element["options"] = options[:SELECT_OPTIONS]
    if isinstance(element.get("option_groups"), list):
        element["option_groups"] = element["option_groups"][:SELECT_OPTION_GROUPS]


def _element(element: Any, notes: Notes) -> None:
    if not isinstance(element, dict):
        return
    _text(element.get("text") if element.get("type") == "button" else None, BUTTON_TEXT, notes)
    _text(element.get("placeholder"), PLACEHOLDER, notes)
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        _text(confirm.get("title"), CONFIRM_TITLE, notes)
        _text(confirm.get("text"), CONFIRM_TEXT, notes)
        _text(confirm.get("confirm"), CONFIRM_BUTTON, notes)
        _text(confirm.get("deny"), CONFIRM_BUTTON, notes)
    _options(element, notes)


def _block(block: Any, notes: Notes) -> None:
    """Cut every text of one block to its limit, in place."""
    if not isinstance(block, dict):
        return
    kind = block.get("type")
    if kind == "section":
        _text(block.get("text"), SECTION_TEXT, notes)
        if isinstance(block.get("fields"), list):
            block["fields"] = block["fields"][:SECTION_FIELDS]
            for f in block["fields"]:
                _text(f, FIELD_TEXT, notes)
        _element(block.get("accessory"), notes)
    elif kind == "header":
        _text(block.get("text"), HEADER_TEXT, notes)
    elif kind == "context" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:CONTEXT_ELEMENTS]
        for e in block["elements"]:
            if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
                _text(e, CONTEXT_TEXT, notes)
    elif kind == "actions" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:ACTIONS_ELEMENTS]
        for e in block["elements"]:
            _element(e, notes)
    elif kind == "input":
        _text(block.get("label"), INPUT_LABEL, notes)
        _text(block.get("hint"), INPUT_HINT, notes)
        _element(block.get("element"), notes)


def text_chars(node: Any) -> int:
    """Characters of all text objects in a Block Kit structure (what Slack's cumulative limit counts)."""
    if isinstance(node, dict):
        own = len(node["text"]) if node.get("type") in ("plain_text", "mrkdwn") and isinstance(
            node.get("text"), str) else 0
        return own + sum(text_chars(v) for v in node.values() if isinstance(v, dict | list))
    if isinstance(node, list):
        return sum(text_chars(v) for v in node)
    return 0


def fits(blocks: list[dict[str, Any]], max_blocks: int = MESSAGE_BLOCKS,
         max_chars: int | None = MESSAGE_BLOCK_CHARS) -> bool:
    """True if Slack takes `blocks` as they are (count and total text; per-field limits aside)."""
    return len(blocks) <= max_blocks and (max_chars is None or text_chars(blocks) <= max_chars)


def json_copy(node: Any) -> Any:
    """A deep copy of a JSON-like structure (dicts, lists, scalars); several times faster than `copy.deepcopy`."""
    if isinstance(node, dict):
        return {k: json_copy(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [json_copy(v) for v in node]
    return node


def fit_fields(blocks: list[dict[str, Any]], notes: Notes = Notes(), *, copy: bool = True) -> list[dict[str, Any]]:
    """A copy of `blocks` with every text cut to its field's limit and long selects grouped; `copy=False`: `blocks`
    themselves, changed in place (blocks the caller has just made and gives away: a message rendered to send)."""
    out: list[dict[str, Any]] = json_copy(blocks) if copy else blocks
    for block in out:
        _block(block, notes)
    return out


class DuplicateId(ValueError):
    """A layout in which Slack would find an `action_id` twice in one block or a `block_id` twice."""


def _elements(block: dict[str, Any]) -> list[Any]:
    """The interactive elements of a block: an actions/context block's elements, an input's element, an
    accessory."""
    found: list[Any] = []
    for key in ("elements", "element", "accessory"):
        value = block.get(key)
        found.extend(value if isinstance(value, list) else [value] if isinstance(value, dict) else [])
    return [e for e in found if isinstance(e, dict)]


def duplicate_id(blocks: list[Any]) -> str | None:
    """The first `block_id` repeated in `blocks` or `action_id` repeated within one block (as Slack says
    it), or None."""
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                return f"block_id {block_id!r} is used twice (blocks/{i})"
            block_ids.add(block_id)
        action_ids: set[str] = set()
        for element in _elements(block):
            action_id = element.get("action_id")
            if action_id is None:
                continue
            if action_id in action_ids:
                return f"action_id {action_id!r} is used twice in one block (blocks/{i})"
            action_ids.add(action_id)
    return None


def check_ids(blocks: list[Any]) -> None:
    """Raise DuplicateId when Slack would refuse `blocks` for a repeated id (see the module's docstring)."""
    problem = duplicate_id(blocks)
    if problem is not None:
        raise DuplicateId(problem)


def fit_blocks(blocks: list[dict[str, Any]], notes: Notes = Notes(), *, max_blocks: int = MESSAGE_BLOCKS,
               max_chars: int | None = MESSAGE_BLOCK_CHARS, fitted: bool = False) -> list[dict[str, Any]]:
    """A copy of `blocks` within Slack's limits: texts cut with a note, long selects grouped, and the blocks
    past `max_blocks` (or past `max_chars` of text) replaced by one context line with `notes.more`. Raises
    DuplicateId for a layout with a repeated id. `fitted`: `blocks` come from `fit_fields(..., copy=False)` and
    are the caller's to give away: neither copied nor cut again."""
    check_ids(blocks)
    out = blocks if fitted else fit_fields(blocks, notes)
    if fits(out, max_blocks, max_chars):
        return out
    note = {"type": "context", "elements": [{"type": "plain_text", "emoji": False, "text": notes.more}]}
    budget = (max_chars if max_chars is not None else float("inf")) - len(notes.more)
    kept: list[dict[str, Any]] = []
    used = 0
    for block in out:
        size = text_chars(block)
        if len(kept) >= max_blocks - 1 or used + size > budget:
            break
        kept.append(block)
        used += size
    return [*kept, note]


def fit_view(view: dict[str, Any], notes: Notes = Notes()) -> dict[str, Any]:
    """A copy of a modal or Home view within Slack's limits (see `fit_blocks`; 100 blocks, no text total)."""
    out: dict[str, Any] = json_copy(view)
    for key in ("title", "submit", "close"):
        _text(out.get(key), VIEW_TITLE, notes)
    out["blocks"] = fit_blocks(out.get("blocks") or [], notes, max_blocks=VIEW_BLOCKS, max_chars=None)
    return out


def fit_text(text: str, notes: Notes = Notes(), *, with_blocks: bool = False) -> str:
    """A message's top-level text within its limit (shorter when it is only the fallback of blocks)."""
    return cut(text, FALLBACK_TEXT if with_blocks else MESSAGE_TEXT, notes.cut)
