"""The statements the store sends, in the order it sends them, with their parameters, on either engine: for tests
of lock order (which rows a unit locks first), which counting (`tests/statements.py`) does not show.

Every statement a Tx sends goes through one of its `_run`, `_write`, `_soon` and `_many` (SQLite's `Tx` and each
engine's subclass, whether they run on the connection's thread or as coroutines on the event loop); each is
recorded as it is sent, in the statement's own form (SQLite's, before an engine translates it)."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.store.tx import Tx

METHODS = ("_run", "_write", "_soon", "_many")
ENGINE_MODULES = ("bot.store.postgres", "bot.store.pgunit")  # where the engines' Tx classes live (if present)


@dataclass(frozen=True)
class Sent:
    sql: str
    params: Any  # a statement's parameters, or an executemany's rows


def record_statements(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """From now on, every statement any Tx sends, appended to the list returned, in the order sent."""
    sent: list[Sent] = []
    classes = _tx_classes()
    for cls in classes:
        for name in METHODS:
            fn = cls.__dict__.get(name)
            if fn is not None:
                monkeypatch.setattr(cls, name, _recording(fn, sent))
    assert any(name in cls.__dict__ for cls in classes for name in METHODS)
    return sent


def _tx_classes() -> list[type[Tx]]:
    for module in ENGINE_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    found: list[type[Tx]] = []
    todo: list[type[Tx]] = [Tx]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _recording(fn: Callable[..., Any], sent: list[Sent]) -> Callable[..., Any]:
    """`fn`, recording its statement once (a method that calls another of these, as a hop-form `_soon` calls
    `_run`, is recorded as the outer call only)."""
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def recorded_async(self: Tx, sql: str, params: Any, *rest: Any) -> Any:
            if getattr(self, "_sent_recording", False):
                return await fn(self, sql, params, *rest)
            sent.append(Sent(sql, params))
            self._sent_recording = True  # type: ignore[attr-defined]
            try:
                return await fn(self, sql, params, *rest)
            finally:
                self._sent_recording = False  # type: ignore[attr-defined]
        return recorded_async

    @functools.wraps(fn)
    def recorded(self: Tx, sql: str, params: Any, *rest: Any) -> Any:
        if getattr(self, "_sent_recording", False):
            return fn(self, sql, params, *rest)
        sent.append(Sent(sql, params))
        self._sent_recording = True  # type: ignore[attr-defined]
        try:
            return fn(self, sql, params, *rest)
        finally:
            self._sent_recording = False  # type: ignore[attr-defined]
    return recorded
