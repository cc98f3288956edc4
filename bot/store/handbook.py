"""The handbook's remaining fields on a case (issue #18 items 20 and 21): what an outcome records besides itself,
and the meeting's form. Functions take an open `Tx`; the free texts (where a lotsning led, the evaluation's
comment) are already guarded by `bot.fields` and erased with the case's other free text
(`closing.close_and_erase`)."""

from __future__ import annotations

from bot.store.db import Tx


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


async def set_outcome_details(tx: Tx, case_id: int, guided_to: str | None, mandate: bool | None,
                              score: int | None, comment: str | None) -> None:
    await tx.execute(
        "UPDATE cases SET guided_to = ?, sip_mandate = ?, evaluation_score = ?, evaluation_comment = ? WHERE id = ?",
        (guided_to, _flag(mandate), score, comment, case_id),
    )


async def set_meeting_details(tx: Tx, case_id: int, kind: str, purpose: str | None, informed: bool | None) -> None:
    """The meeting's form (`gfi` or `tjansteperson`), a tjänstepersonmöte's reason, and whether the individual
    was told what the meeting is and who comes."""
    await tx.execute(
        "UPDATE cases SET meeting_kind = ?, meeting_purpose = ?, individual_informed = ? WHERE id = ?",
        (kind, purpose, _flag(informed), case_id),
    )
