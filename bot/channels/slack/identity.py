"""Slack user id ↔ directory person.

Matching order: the directory's `slack_user_id`, then what was matched before (table `slack_identities`),
then the e-mail address: for an inbound user `users.info` gives the e-mail, for an outbound person
`users.lookupByEmail` gives the Slack id. A match by e-mail is made once and remembered in the database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.directory import Directory
from bot.store import Database
from bot.store import slack as store

log = logging.getLogger(__name__)

# Slack answers that mean "this user cannot be found", as opposed to a transient failure.
NOT_FOUND_ERRORS = frozenset({"users_not_found", "user_not_found", "account_inactive", "user_disabled"})


class IdentityLookupError(Exception):
    """Slack could not be asked (rate limit, network, server error): try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent
        super().__init__(reason)


def _api_error(exc: SlackApiError) -> IdentityLookupError:
    response: Any = exc.response
    status = getattr(response, "status_code", 200)
    error = str(response.get("error", "unknown")) if hasattr(response, "get") else "unknown"
    retry_after: float | None = None
    if status == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", "1"))
        except (TypeError, ValueError):
            retry_after = 1.0
    permanent = status < 500 and status != 429 and error in {"invalid_auth", "not_authed", "missing_scope"}
    return IdentityLookupError(f"slack:{error}", retry_after=retry_after, permanent=permanent)


class SlackIdentity:
    """Resolves people both ways and remembers e-mail matches."""

    def __init__(self, db: Database, directory: Directory, client: AsyncWebClient, clock: Clock) -> None:
        self.db = db
        self.directory = directory
        self.client = client
        self.clock = clock
        self._unknown_people: set[str] = set()  # people Slack did not know this run (no repeated look-ups)
        self._lookups: dict[str, asyncio.Lock] = {}

    async def _remember(self, slack_user_id: str, person_id: str, matched_by: str) -> None:
        async with self.db.transaction() as tx:
            await store.remember_identity(tx, slack_user_id, person_id, matched_by, self.clock.now())
        log.info("slack identity matched", extra={"event": "slack.identity", "matched_by": matched_by})

    async def cached_person_for(self, slack_user_id: str) -> str | None:
        """The directory person of an inbound Slack user from the directory or an earlier match, without
        asking Slack (safe before a listener's ack); None when not known that way."""
        if not slack_user_id:
            return None
        person = self.directory.by_slack_id(slack_user_id)
        if person is not None:
            return person.id
        known = await self.db.run_read(lambda tx: store.person_of(tx, slack_user_id))
        if known is not None and self.directory.person(known) is not None:
            return known
        return None

    async def person_for(self, slack_user_id: str) -> str | None:
        """The directory person of an inbound Slack user, or None when nobody matches. Asks Slack
        (`users.info`) when the directory and earlier matches do not know the user: call it after the ack."""
        found = await self.cached_person_for(slack_user_id)
        if found is not None or not slack_user_id:
            return found
        try:
            info = await self.client.users_info(user=slack_user_id)
        except SlackApiError as exc:
            log.warning("slack users.info failed", extra={"event": "slack.identity_failed",
                                                          "reason": str(_api_error(exc))})
            return None
        email = ((info.get("user") or {}).get("profile") or {}).get("email")
        if not email:
            return None
        person = self.directory.by_email(str(email))
        if person is None:
            return None
        await self._remember(slack_user_id, person.id, "email")
        return person.id

    async def slack_id_for(self, person_id: str) -> str | None:
        """The Slack user id of a person, or None when Slack does not know them.

        Raises IdentityLookupError when Slack could not be asked (the caller retries later).
        """
        person = self.directory.person(person_id)
        if person is None:
            return None
        if person.slack_user_id:
            return person.slack_user_id
        # One look-up per person at a time: a DM and a Home refresh to the same new person ask Slack once.
        async with self._lookups.setdefault(person_id, asyncio.Lock()):
            return await self._look_up(person_id, person.email)

    async def _look_up(self, person_id: str, email: str | None) -> str | None:
        async with self.db.read() as tx:
            known = await store.slack_user_of(tx, person_id)
        if known is not None:
            return known
        if not email or person_id in self._unknown_people:
            return None
        try:
            found = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = exc.response.get("error") if hasattr(exc.response, "get") else None
            if error in NOT_FOUND_ERRORS:
                self._unknown_people.add(person_id)
                return None
            raise _api_error(exc) from None
        slack_user_id = (found.get("user") or {}).get("id")
        if not slack_user_id:
            return None
        await self._remember(str(slack_user_id), person_id, "email")
        return str(slack_user_id)
