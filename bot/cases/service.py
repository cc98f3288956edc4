"""Case service: every lifecycle action as one transaction (state change + audit + outbox).

`CaseService` is composed of one mixin per concern, each a subclass of `CaseEngine` (the shared
machinery in `bot.cases.base`): request, distribution, meeting, follow-up, closing & consent, views.
Import the public names from here; the concern modules are an implementation detail.
"""

from __future__ import annotations

from bot.cases.base import MAX_ASSIGNEES, MAX_BRIEF, MAX_SHORT, CaseEngine, CaseHook
from bot.cases.closing import ClosingActions
from bot.cases.distribution import DistributionActions
from bot.cases.follow_up import FollowUpActions
from bot.cases.meeting import MeetingActions
from bot.cases.request import GfiRequest, RequestActions
from bot.cases.views import CaseViews, MyCases

__all__ = [
    "MAX_ASSIGNEES",
    "MAX_BRIEF",
    "MAX_SHORT",
    "CaseEngine",
    "CaseHook",
    "CaseService",
    "GfiRequest",
    "MyCases",
]


class CaseService(
    RequestActions,
    DistributionActions,
    MeetingActions,
    FollowUpActions,
    ClosingActions,
    CaseViews,
    CaseEngine,
):
    """The GFI lifecycle. Methods raise Refusal or FieldError; refusals are audited."""
