"""Log review per principal (issue #23 item 9): a coordinator reviews the reads of their own principal's
staff; the one rule every channel asks is `readlog.reviews`."""

from __future__ import annotations

import pytest

from bot import readlog
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Directory, load_directory


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(DEFAULT_DIRECTORY)


@pytest.mark.parametrize(("reviewer", "reader", "listed"), [
    ("sara.holm", "maria.sand", True),  # the kommun's coordinator, kommun staff (same unit)
    ("sara.holm", "david.nord", True),  # another unit of the same kommun
    ("sara.holm", "fatima.ali", False),  # the region's staff: counted only
    ("jonas.sjo", "fatima.ali", True),  # the region's coordinator, another region unit
    ("jonas.sjo", "maria.sand", False),
    ("jonas.sjo", "someone.gone", False),  # no longer in the directory: cannot be placed, counted
    ("nobody", "maria.sand", False),
])
def test_a_coordinator_reviews_only_their_own_principal_s_staff(directory: Directory, reviewer: str, reader: str,
                                                                listed: bool) -> None:
    assert readlog.reviews(directory, reviewer, reader) is listed
