"""What the people who leave a unit may still read after a directory hand-over (`bot.directory.handover`): the
cases' rule (`visibility.level`, with the ladder's alerts), applied to the cases' messages still to go. Plugged into
the hand-over from here (`plug`, at import): the directory's modules do not import the cases."""

from __future__ import annotations

from bot.cases import access
from bot.cases.base import build_many, read_many
from bot.cases.visibility import Level, level
from bot.directory.handover import use_lost_readers
from bot.directory.lookup import Directory
from bot.directory.model import DirectoryFile
from bot.store import Tx
from bot.store import closing as closing_store
from bot.store import holdings as store


async def stop_for_leavers(tx: Tx, written: DirectoryFile, candidates: dict[str, set[str]]) -> None:
    """The people who leave may no longer read these cases in full (by the directory as written, and the ladder's
    alerts: a coordinator the dispute reached still reads it from another unit): the cases' messages to them still
    to go that show the text are stopped, as after a case action (`bot.cases.access_lost`).
    First the open items and then the timers of those cases are locked (DESIGN "lock order", after the audit rows):
    a sweep's batch that holds one of them and queued such a message from a case as it read it is waited for, and
    its message then seen."""
    if not candidates:
        return
    directory = Directory(written)
    lost: dict[int, tuple[str, list[str]]] = {}
    for ref, case in build_many(await read_many(tx, sorted(candidates))).items():
        alerts = await access.alerts_for(tx, case.id)
        people = sorted(p for p in candidates[ref] if level(case, p, directory, alerts) is not Level.FULL)
        if people:
            lost[case.id] = (ref, people)
    await store.lock_open_rows(tx, sorted(lost))  # waits for a sweep's batch holding one of them
    for case_id in sorted(lost):
        ref, people = lost[case_id]
        await closing_store.cancel_shown(tx, case_id, ref, people, "no longer reads the case: directory_handover")


def plug() -> None:
    """Give the hand-over this rule (the core and `gfi-bot directory import|sync` call it)."""
    use_lost_readers(stop_for_leavers)


plug()
