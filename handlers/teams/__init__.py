"""Teams listeners (thin): messages in the personal chat and card actions; both call the same services as Slack."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnState

from bot.channels.teams.app import TeamsContext


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    """Register every Teams route on `agent`. Card actions first: an invoke is never a message."""
    from handlers.teams import actions, commands

    actions.register(agent, ctx)
    commands.register(agent, ctx)
