"""The private names of libraries the code still uses, checked loudly (issue #19 item 8).

Each private name is used under an upper version bound in pyproject.toml. A release that renames or changes
one fails here, naming it, instead of failing somewhere in the bot; the installed versions must also lie
within the bounds (scripts/setup installs from constraints.txt)."""

from __future__ import annotations

import inspect
from importlib import metadata

import pytest
from packaging.requirements import Requirement

BOUNDED = ("microsoft-agents-hosting-core", "psycopg")  # aiosqlite is gone: bot/store/db.py runs its own threads


@pytest.mark.parametrize("name", BOUNDED)
def test_installed_versions_lie_within_the_bounds(name: str) -> None:
    requirements = {Requirement(r).name: Requirement(r) for r in metadata.requires("gfi-bot") or []}
    requirement = requirements[name]
    assert any(spec.operator == "<" for spec in requirement.specifier), f"{name} needs an upper bound"
    installed = metadata.version(name)
    assert requirement.specifier.contains(installed), f"{name} {installed} is outside {requirement.specifier}"


def test_agents_sdk_private_authorize_request() -> None:
    """bot/channels/teams/auth.py validates an inbound token with `_authorize_request(header, config)`."""
    from microsoft_agents.hosting.core.authorization import jwt

    authorize = getattr(jwt, "_authorize_request", None)
    assert authorize is not None, "the Agents SDK removed jwt._authorize_request"
    assert inspect.iscoroutinefunction(authorize)
    assert list(inspect.signature(authorize).parameters) == ["authorization_header", "auth_config"]


# sha256 of psycopg 3.3's `BaseCursor._execute_gen` source: `bot.store.pgqueue._queue_gen` copies its steps
EXECUTE_GEN = "d4128fe2e2207fb5b5c95d2e880336290b1aff65314ab9b4594414c11a8cbce7"


def test_psycopg_private_names_of_the_pipeline_queue() -> None:
    """bot/store/pgqueue.py queues a statement with `_start_query`, `_convert_query`, `_maybe_prepare_gen`,
    `_prepared.maintain_gen` (psycopg's `_execute_gen` without its `_communicate_gen`) and sends with
    `AsyncPipeline._communicate_gen`: a release that changes `_execute_gen` must be read again, not followed."""
    import hashlib

    import psycopg
    from psycopg import _cursor_base

    from bot.store import pgqueue

    assert pgqueue.QUEUES
    for name in ("_start_query", "_convert_query", "_maybe_prepare_gen"):
        assert hasattr(psycopg.AsyncCursor, name), f"psycopg removed AsyncCursor.{name}"
    assert hasattr(psycopg.AsyncPipeline, "_communicate_gen"), "psycopg removed AsyncPipeline._communicate_gen"
    source = inspect.getsource(_cursor_base.BaseCursor._execute_gen)
    assert hashlib.sha256(source.encode()).hexdigest() == EXECUTE_GEN, "psycopg changed _execute_gen: read pgqueue"
