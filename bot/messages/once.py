"""Describing a message once per template and context within one pass (a sweep's batch, `described_once`).

A sweep's batch describes many messages; those to several people about the same thing (an escalation to a rung
of several managers, a reminder to everyone in a meeting) are the same template with the same context, but for
the recipient. Inside `described_once`, `bot.messages.describe.describe` renders such a message once and hands
out copies, each with its own offers (added after the rendering, never part of it).

What a copy may share is decided conservatively:

- the context must be made of plain values only (text, numbers, booleans, None, dates and times, enums, and
  lists, tuples and dicts of them), compared with their types (1, 1.0 and True render differently; so do two
  times of the same instant in different zones); a context holding anything else (a case, passed for the
  free-text check) is described each time;
- the recipient (`recipient`, set by the outbox for every message) is left out of the comparison only for a
  template that does not read it: one whose source names no `recipient` and neither includes nor extends another
  template, nor imports one with its context;
- the memo lives for the `with` block only, in the running context (`contextvars`), so a pass on a worker thread
  (`asyncio.to_thread` copies the context) sees its own and nothing else does.

Who may read a message's free text is not decided here: the outbox checks each recipient's copy as before
(`bot.outbox.FreeTextCheck`), with the message and the context it was described from.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

from jinja2 import Environment, TemplateNotFound, meta, nodes

from bot.messages.model import Message, Offer

Key = tuple[Any, ...]

_MEMO: ContextVar[dict[Key, Message] | None] = ContextVar("described_once", default=None)

# per template environment: whether a message kind's template may read its recipient (parsed once per process)
_READS_RECIPIENT: weakref.WeakKeyDictionary[Environment, dict[str, bool]] = weakref.WeakKeyDictionary()

_SCALARS = (str, int, float, bool, type(None), timedelta)
_PLAIN = frozenset(_SCALARS)


class _Unkeyed(Exception):
    """A context value the memo does not compare: the message is described on its own."""


@contextmanager
def described_once() -> Iterator[None]:
    """Within the block, a message described for the same template and context is rendered once (module doc)."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def active() -> bool:
    return _MEMO.get() is not None


def reads_recipient(env: Environment, kind: str) -> bool:
    """Whether `<kind>.msg.j2` may read `recipient` (True when unsure: it includes, extends or imports with
    context, or there is no such template)."""
    known = _READS_RECIPIENT.setdefault(env, {})
    if kind not in known:
        known[kind] = _reads_recipient(env, f"{kind}.msg.j2")
    return known[kind]


def _reads_recipient(env: Environment, name: str) -> bool:
    if env.loader is None:
        return True
    try:
        source, _, _ = env.loader.get_source(env, name)
    except TemplateNotFound:
        return True
    tree = env.parse(source)
    if any(True for _ in tree.find_all((nodes.Include, nodes.Extends))):
        return True
    if any(node.with_context for node in tree.find_all(nodes.Import)):
        return True
    if any(node.with_context for node in tree.find_all(nodes.FromImport)):
        return True
    return "recipient" in meta.find_undeclared_variables(tree)


def lookup(key: Key) -> Message | None:
    memo = _MEMO.get()
    return None if memo is None else memo.get(key)


def remember(key: Key, message: Message) -> None:
    memo = _MEMO.get()
    if memo is not None:
        memo[key] = message


def key_of(env: Environment, kind: str, case_ref: str | None, ctx: dict[str, Any]) -> Key | None:
    """The memo's key for a description, or None when it is not to be shared (see the module)."""
    skip = "" if reads_recipient(env, kind) else "recipient"
    try:
        values = tuple([(name, _frozen(ctx[name])) for name in sorted(ctx) if name != skip])
    except _Unkeyed:
        return None
    return (kind, case_ref, values)


def copy(message: Message, offers: tuple[Offer, ...]) -> Message:
    """A remembered message for one recipient: its own offers, its own `extra`."""
    return replace(message, offers=offers, extra=dict(message.extra))


def _frozen(value: Any) -> Any:
    """`value` as a hashable that tells apart what renders differently (its type kept beside it)."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first, without isinstance's walk
        return (kind, value)
    if isinstance(value, _SCALARS):
        return (type(value), value)
    if isinstance(value, datetime | date | time):
        return (type(value), value.isoformat(), repr(getattr(value, "tzinfo", None)))
    if isinstance(value, Enum):
        return (type(value), value.value)
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((_frozen(k), _frozen(v)) for k, v in value.items()))
    raise _Unkeyed(type(value).__name__)
