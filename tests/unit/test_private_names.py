"""The private names of libraries the code still uses, checked loudly (issue #19 item 8).

Each private name is used under an upper version bound in pyproject.toml. A release that renames or changes
one fails here, naming it, instead of failing somewhere in the bot; the installed versions must also lie
within the bounds (scripts/setup installs from constraints.txt)."""

from __future__ import annotations

import inspect
from importlib import metadata

import pytest
from packaging.requirements import Requirement

BOUNDED = ("microsoft-agents-hosting-core",)  # aiosqlite is gone: bot/store/db.py runs its own threads


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
