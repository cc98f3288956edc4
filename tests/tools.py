"""Tools some tests need beyond Python (npm's Teams manifest schema, `setpriv` for file modes as root, `unshare`
and `nsenter` for the disk-full fault's small filesystem, libfaketime for the wall-clock fault).

On a developer's machine a missing tool skips the test that needs it, saying why. Under CI (`CI` set, as
`.ci/run` does) it fails the run instead: CI installs every tool (`.ci/run`, `scripts/setup`), so a missing one
means a check silently stopped running.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(why: str) -> NoReturn:
    """Skip the test (fail it under CI) because a tool it needs is missing."""
    if in_ci():
        pytest.fail(f"{why}; under CI every tool a test needs is installed by .ci/run and scripts/setup")
    pytest.skip(why)
