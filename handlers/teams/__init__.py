"""Teams listeners (thin): messages in the personal chat and card actions; both call the same services as Slack."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication, TurnState

from bot.channels.teams.app import TeamsChannel, TeamsContext, build_teams
from bot.config import Settings
from bot.core import Core


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    """Register every Teams route on `agent`. Card actions first: an invoke is never a message."""
    from handlers.teams import actions, commands, dialogs, search

    actions.register(agent, ctx)
    search.register(agent, ctx)
    dialogs.register(agent, ctx)
    commands.register(agent, ctx)


def build(core: Core, settings: Settings) -> TeamsChannel:
    """The Teams channel of a running bot, with these listeners, falling back to the "email" sender if any; with
    Graph and TEAMS_CATALOG_APP_ID it installs the app for people who never opened the bot."""
    from bot.channels.teams.installer import chat_installer

    return build_teams(core, settings, register=register, installer=chat_installer(core, settings),
                       fallback=core.dispatcher.senders.get("email"))
