"""The link uses' retention must outlive the longest token GFI_LINK_DAYS allows (#22 item 6)."""

from __future__ import annotations

from annotated_types import Le

from bot.config import Settings
from bot.stats.pruning import LINK_DAYS_MAX, LINK_USE_DAYS, retention


def test_link_uses_outlive_the_longest_token_the_setting_allows() -> None:
    bounds = [m.le for m in Settings.model_fields["link_days"].metadata if isinstance(m, Le)]
    assert bounds == [LINK_DAYS_MAX]  # raising the setting's bound must raise the retention with it
    assert LINK_USE_DAYS > LINK_DAYS_MAX
    assert retention("link_uses").days == LINK_USE_DAYS
