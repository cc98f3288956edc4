"""A test that needs a missing tool skips on a developer's machine and fails under CI (tests/tools.py)."""

from __future__ import annotations

import pytest

from tests.tools import missing_tool


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="setpriv"):
        missing_tool("no setpriv")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_a_missing_tool_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        missing_tool("no setpriv")
