"""Every action Slack offers (a button or a form) has a Teams card action: the test walks Slack's registered
action listeners and the shared actions table (bot/messages/actions.py) and fails for one Teams lacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.channels.teams import home as teams_home
from bot.messages.actions import ACTIONS
from handlers.teams import absence, brister, commands, samverkan
from handlers.teams.actions import FORM_VERBS, IMMEDIATE_VERBS

# Slack action ids that are not rows of the actions table (the Home's own buttons, the absence list) and
# the Teams verb that does the same.
SLACK_ONLY = {
    "gfi_open_request": teams_home.NEW_REQUEST,
    "gfi_absence_open": teams_home.ABSENCE,
    "gfi_absence_cancel": absence.CANCEL,
    "brist_open": teams_home.BRIST_NEW,
    "brist_draft_open": teams_home.BRIST_DRAFT,
    "brist_draft_dismiss_open": teams_home.BRIST_DISMISS,
    "brist_year_report": teams_home.YEAR_REPORT,
    "brist_year_report_previous": teams_home.YEAR_REPORT,  # the Home card has a button per year
    "stats_csv": teams_home.STATS_CSV,
}
TEAMS_VERBS = (FORM_VERBS | IMMEDIATE_VERBS | brister.VERBS | samverkan.VERBS | absence.VERBS | teams_home.VERBS
               | {commands.QUEUE_MORE, "request"})


class Recorder:
    """Stands in for Bolt's app: records what `handlers.slack.register` wires, by kind."""

    def __init__(self) -> None:
        self.wired: dict[str, list[Any]] = {}
        self.client = None

    def __getattr__(self, kind: str) -> Callable[..., Callable[[Any], Any]]:
        def route(matcher: Any, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
            self.wired.setdefault(kind, []).append(matcher)
            return lambda fn: fn
        return route


def slack_action_ids() -> set[str]:
    from handlers.slack import register

    app = Recorder()
    register(app, core=None, ctx=object())  # type: ignore[arg-type]
    return {m for m in app.wired["action"] if isinstance(m, str)}


def test_every_slack_action_has_a_teams_card_action() -> None:
    by_slack_id = {spec.slack_action_id: name for name, spec in ACTIONS.items() if spec.slack_action_id}
    missing = []
    for action_id in sorted(slack_action_ids()):
        verb = by_slack_id.get(action_id) or SLACK_ONLY.get(action_id)
        if verb is None or verb not in TEAMS_VERBS:
            missing.append(action_id)
    assert not missing, f"Slack actions Teams lacks: {missing}"


def test_every_offered_action_has_a_teams_verb() -> None:
    assert {name for name, spec in ACTIONS.items() if spec.slack_action_id} <= TEAMS_VERBS
