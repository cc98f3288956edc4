"""Need to know after a case action: the messages still to go that show the case's text to someone who no longer
may read it are stopped in the action's own transaction (DESIGN §7).

A reassignment takes the case from its former assignees, a rebooking leaves a unit's people out of the meeting, an
assignment or a closing ends a distributor's work on it: each of them read the case in full before the action and
may not after (`visibility.lost_readers`). A message queued to them before, showing the case's free text
(`reads`: an assignment with the brief, an escalation with a follow-up's text), must not reach them after. It is
cancelled and its stored message erased; one already delivered stays (they read it while they could), and one
whose send is in flight is retracted once the send is recorded (`bot.store.outbox.retract_withdrawn`).

A sweep's batch does not wait for the case's row: it holds the case's awaited items or timers, decides its
messages from the case as it read it, passes its version check and may commit after the action. So before its
pass the action locks the case's open items and then its timers (DESIGN's lock order: case, audit chain, items,
timers), and waits there for such a batch: the pass then sees what the batch queued. A consent withdrawal has its
own passes (`bot.cases.closing`), which also retract what was delivered."""

from __future__ import annotations

from bot.cases.access import alerts_for
from bot.cases.models import Case
from bot.cases.rules import Action
from bot.cases.visibility import Level, level, lost_readers
from bot.directory import Directory
from bot.store import Tx
from bot.store import closing as closing_store

# A withdrawal stops (and retracts) the case's messages itself (`WithdrawalWaits`, `WithdrawnAgain`).
_WITHDRAWALS = frozenset({Action.WITHDRAW_CONSENT.value, Action.WITHDRAW_CONSENT_UNIT.value})


async def stop_for_lost_readers(tx: Tx, before: Case, case: Case, action: str, directory: Directory) -> int:
    """In a case action's transaction, after its audit row and before the Time module's hook: cancel the pending
    messages of the case that show its text to those who read it in full before the action and may not now.
    Every unit that changes a case calls it: the case actions (`CaseEngine._act_chosen`) and the answers to a
    follow-up (`bot.cases.follow_up`). The action's own notices must not show text to someone who loses it (they
    would be cancelled here). Returns how many were cancelled (nothing is read when nobody lost access).

    A disputed case is also read in full by the coordinators its dispute reached (the ladder's alerts): read here,
    and only then, they are judged with the alerts on both sides, so a settled dispute stops the text still to go to
    a coordinator who read the case only through it, and one who still reads it another way keeps it."""
    if action in _WITHDRAWALS:
        return 0
    lost = lost_readers(before, case, directory)
    locked = before.disputed
    if locked:  # its items and timers locked first: a batch alerting one of them meanwhile is waited for
        await closing_store.lock_open_rows(tx, case.id)
        alerts = await alerts_for(tx, case.id)
        lost = sorted(p for p in {*lost, *alerts.alerted} if level(before, p, directory, alerts) is Level.FULL
                      and level(case, p, directory, alerts) is not Level.FULL)
    if not lost:
        return 0
    if not locked:
        await closing_store.lock_open_rows(tx, case.id)  # waits for a sweep's batch holding one of them
    return await closing_store.cancel_shown(tx, case.id, case.ref, lost, f"no longer reads the case: {action}")
