"""Delivers outbox messages as e-mail from `GRAPH_SENDER` (`sendMail`); implements `bot.dispatcher.Sender`.

Registered under "email": people whose channel is `email` get every message this way, and the Teams
sender hands over what Teams cannot deliver. Offers become signed links (`links.py`) when the bot has a
public URL and a link key; without them the e-mail tells the reader to answer in GFI-boten.
"""

from __future__ import annotations

import logging

from bot.channels.graph.client import GraphClient
from bot.channels.graph.links import ACTIONS, LinkSigner
from bot.channels.graph.mail import message_of, render_mail
from bot.channels.graph.templates import GraphTemplates
from bot.clock import Clock
from bot.directory import Directory, Person
from bot.dispatcher import DeliveryError
from bot.messages.model import Offer
from bot.outbox import OutboxMessage

log = logging.getLogger(__name__)


def mail_address(person: Person) -> str | None:
    """Where a person's e-mail goes: their e-mail address, else their Microsoft 365 sign-in name."""
    return person.email or person.m365_upn


class EmailSender:
    """Sends one e-mail per outbox message. E-mail cannot be recalled: a retraction is a no-op (e-mail never
    carried free text, so there is nothing to erase)."""

    def __init__(self, graph: GraphClient, directory: Directory, templates: GraphTemplates, clock: Clock,
                 signer: LinkSigner | None) -> None:
        self.graph = graph
        self.directory = directory
        self.templates = templates
        self.clock = clock
        self.signer = signer

    def _link(self, person_id: str, fallback_ref: str | None) -> object:
        def link(offer: Offer) -> str | None:
            if self.signer is None or offer.action not in ACTIONS:
                return None
            return self.signer.url(person_id, offer.action, offer.ref or fallback_ref, offer.item, self.clock.now())

        return link

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind == "retract":
            return None
        person = self.directory.person(message.recipient_id)
        if person is None:
            raise DeliveryError("email:unknown_person", permanent=True)
        address = mail_address(person)
        if not address:
            raise DeliveryError("email:no_address", permanent=True)
        neutral = message_of(message, self.templates)
        mail = render_mail(neutral, self.templates, self._link(person.id, message.case_ref))  # type: ignore[arg-type]
        await self.graph.send_mail(address, mail.subject, mail.html, mail.text)
        log.info("e-mail sent", extra={"event": "graph.mail_sent", "outbox_id": message.id,
                                       "case_ref": message.case_ref, "template": message.template})
        return None
