"""Teams repository: who a Teams user is, where the bot can write to a person, and which inbound activities
were already handled (tables of migration 8)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock
from bot.store import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationRef:
    """Enough to write to a person's personal chat with the bot later (a proactive message)."""

    person_id: str
    user_id: str
    conversation_id: str
    service_url: str
    tenant_id: str | None = None
    bot_id: str | None = None
    aad_object_id: str | None = None
    source: str = "message"


class TeamsStore:
    """Reads and writes the Teams tables; every call is its own short transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # --- identities -------------------------------------------------------------------------------
    async def person_for_aad(self, aad_object_id: str) -> str | None:
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT person_id FROM teams_identities WHERE aad_object_id = ?", (aad_object_id,))
        return str(row["person_id"]) if row else None

    async def remember_identity(self, aad_object_id: str, person_id: str, upn: str | None, matched_by: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO teams_identities (aad_object_id, person_id, upn, matched_by, matched_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (aad_object_id) DO UPDATE SET person_id = excluded.person_id, "
                "upn = excluded.upn, matched_by = excluded.matched_by, matched_at = excluded.matched_at",
                (aad_object_id, person_id, upn, matched_by, self.clock.now().isoformat()),
            )
        log.info("teams identity matched", extra={"event": "teams.identity", "matched_by": matched_by})

    async def aad_for_person(self, person_id: str) -> str | None:
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT aad_object_id FROM teams_identities WHERE person_id = ? ORDER BY matched_at DESC LIMIT 1",
                (person_id,),
            )
        return str(row["aad_object_id"]) if row else None

    # --- conversation references -------------------------------------------------------------------
    async def save_reference(self, ref: ConversationRef) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO teams_references (person_id, aad_object_id, user_id, conversation_id, service_url, "
                "tenant_id, bot_id, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (person_id) DO UPDATE SET aad_object_id = excluded.aad_object_id, "
                "user_id = excluded.user_id, conversation_id = excluded.conversation_id, "
                "service_url = excluded.service_url, tenant_id = excluded.tenant_id, bot_id = excluded.bot_id, "
                "source = excluded.source, updated_at = excluded.updated_at",
                (ref.person_id, ref.aad_object_id, ref.user_id, ref.conversation_id, ref.service_url, ref.tenant_id,
                 ref.bot_id, ref.source, self.clock.now().isoformat()),
            )

    async def reference(self, person_id: str) -> ConversationRef | None:
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM teams_references WHERE person_id = ?", (person_id,))
        if row is None:
            return None
        return ConversationRef(
            person_id=row["person_id"], user_id=row["user_id"], conversation_id=row["conversation_id"],
            service_url=row["service_url"], tenant_id=row["tenant_id"], bot_id=row["bot_id"],
            aad_object_id=row["aad_object_id"], source=row["source"],
        )

    # --- inbound idempotency ------------------------------------------------------------------------
    async def claim(self, key: str, kind: str) -> bool:
        """Record an inbound key; False when it was seen before (a redelivery or a double submit)."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO teams_inbound (key, kind, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, kind, self.clock.now().isoformat()),
            )
        return changed == 1

    async def release(self, key: str) -> None:
        """Forget a key whose request was refused, so that a corrected resubmission is handled."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM teams_inbound WHERE key = ?", (key,))
