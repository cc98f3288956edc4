"""Teams user ↔ directory person.

A Teams user is known by the Entra object id of the activity (`from.aadObjectId`). The first time, the user's
UPN (from the activity when the channel sends it, else from the connector's member lookup) is matched against
the directory's `m365_upn`, then `email`; the match is remembered (table `teams_identities`).
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import ChannelAccount
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.directory import Directory
from bot.store.teams import ConversationRef, TeamsStore

log = logging.getLogger(__name__)


def _extra(account: Any, *names: str) -> str | None:
    """A field of a ChannelAccount that may be a declared attribute or an extra property."""
    if account is None:
        return None
    data = account.model_dump(by_alias=True) if hasattr(account, "model_dump") else dict(account)
    for name in names:
        value = data.get(name) or getattr(account, name, None)
        if isinstance(value, str) and value:
            return value
    return None


class TeamsIdentity:
    """Resolves the person behind an activity and remembers where to write to them."""

    def __init__(self, store: TeamsStore, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    async def person_for(self, context: TurnContext) -> str | None:
        """The directory person who sent this activity, or None when nobody matches."""
        sender = context.activity.from_property
        aad = _extra(sender, "aadObjectId", "aad_object_id")
        if aad:
            known = await self.store.person_for_aad(aad)
            if known is not None and self.directory.person(known) is not None:
                return known
        upn = _extra(sender, "userPrincipalName", "user_principal_name", "email")
        if upn is None:
            upn = await self._lookup_upn(context)
        if not upn:
            return None
        person = self.directory.by_email(upn)
        if person is None:
            log.info("teams user unknown", extra={"event": "teams.unknown_user"})
            return None
        if aad:
            by = "m365_upn" if (person.m365_upn or "").lower() == upn.lower() else "email"
            await self.store.remember_identity(aad, person.id, upn, by)
        return person.id

    async def _lookup_upn(self, context: TurnContext) -> str | None:
        """Ask the connector who the sender is (`GET v3/conversations/{id}/members/{user}`)."""
        activity = context.activity
        client = context.turn_state.get(context.adapter._AGENT_CONNECTOR_CLIENT_KEY) if context.adapter else None
        if not isinstance(client, ConnectorClientBase) or activity.conversation is None:
            return None
        # typed as always set, but None when an activity has no `from`
        sender: ChannelAccount | None = activity.from_property
        if sender is None:
            return None
        try:
            member = await client.conversations.get_conversation_member(activity.conversation.id, sender.id)
        except Exception as exc:
            log.warning("teams member lookup failed", extra={"event": "teams.member_lookup_failed",
                                                             "reason": type(exc).__name__})
            return None
        return _extra(member, "userPrincipalName", "user_principal_name", "email")

    async def remember_chat(self, context: TurnContext, person_id: str, source: str) -> None:
        """Store the personal chat's conversation reference, so that the bot can write to the person later."""
        activity = context.activity
        conversation = activity.conversation
        if conversation is None or activity.from_property is None or not activity.service_url:
            return
        if (getattr(conversation, "conversation_type", None) or "personal") != "personal":
            return  # only the 1:1 chat carries messages about cases
        tenant = getattr(conversation, "tenant_id", None)
        await self.store.save_reference(ConversationRef(
            person_id=person_id, user_id=activity.from_property.id, conversation_id=conversation.id,
            service_url=activity.service_url, tenant_id=tenant,
            bot_id=activity.recipient.id if activity.recipient else None,
            aad_object_id=_extra(activity.from_property, "aadObjectId", "aad_object_id"), source=source,
        ))
