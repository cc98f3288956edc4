"""A link page's form submitted (issue #20 item 8): its values parsed by the shared parsers (`bot/forms.py`) and
the service called as the person the link was made for, as the Teams card and the Slack modal do. No rules here:
the services decide, and refuse as they would a button."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import forms as parse
from bot.cases.models import Case, CaseState
from bot.channels.graph import forms as page_forms
from bot.errors import FieldError

if TYPE_CHECKING:
    from bot.channels.graph.links import LinkClaim
    from bot.core import Core


async def submit(core: Core, claim: LinkClaim, values: dict[str, Any]) -> str:
    """Parse the values and call the service (FieldError for the fields; Refusal as a button's). Returns the
    outcome the done page names (the action, or what withdrawing the consent did)."""
    cases, pid, action = core.cases, claim.person_id, claim.action
    ref = claim.ref
    assert ref is not None
    if action in ("brist_measures", "brist_dialogue"):
        key = "atgarder" if action == "brist_measures" else "dialog"
        text, errors = parse.parse_one_text(values, key)
        if errors:
            raise FieldError(errors)
        if action == "brist_measures":
            await core.brister.record_measures(pid, ref, text)
        else:
            await core.brister.record_dialogue(pid, ref, text)
        return action
    if action == "samverkan_decide":  # the matter must be the link's case's, and the person's group's
        matter = await page_forms.samverkan_matter(core, claim)
        text, errors = parse.parse_one_text(values, page_forms.SAMVERKAN_TEXT)
        if errors:
            raise FieldError(errors)
        await core.disputes.samverkan.decide(pid, matter.id, text)
        return action
    if action == "reassign":  # the escalation must still reach the person (as Teams' and Slack's omfördela)
        ref = (await core.ladder.answerable(pid, claim.item if claim.item is not None else -1)).case_ref
    if action in ("assign", "reassign"):
        chosen = parse.parse_assign(values)
        current = await cases.get(ref)
        await cases.assign(pid, ref, chosen.people, chosen.other,
                           reassign=action == "reassign" or current.state is not CaseState.REQUESTED)
        return action
    if action in ("book", "rebook", "book_again"):
        book, errors = parse.parse_book(values, core.settings.timezone)
        if errors or book.at is None:
            raise FieldError(errors)
        await cases.book(pid, ref, book.at, book.place, book.units, confirmed=book.confirmed)
        return action
    if action == "appoint":
        named, problems = parse.parse_appointee(values)
        if named is None:
            raise FieldError(problems)
        await cases.appoint(pid, ref, named)
        return action
    if action == "record_outcome":
        outcome, errors = parse.parse_outcome(values)
        if errors:
            raise FieldError(errors)
        await cases.record_outcome(pid, ref, outcome.outcome, outcome.evaluation_done)
        return action
    if action == "add_follow_up":
        follow, errors = parse.parse_follow_up(values)
        if errors or follow.due is None:
            raise FieldError(errors)
        await cases.add_follow_up(pid, ref, follow.owner, follow.due, follow.what)
        return action
    if action == "close":
        reason, errors = parse.parse_close(values)
        new_contact = parse.parse_new_contact(values, errors)
        fate = parse.parse_open_follow_ups(values, errors)
        if errors:
            raise FieldError(errors)
        await cases.close(pid, ref, reason, new_contact=new_contact, follow_ups=fate)
        return action
    return await _more(core, claim, ref, values)


async def _more(core: Core, claim: LinkClaim, ref: str, values: dict[str, Any]) -> str:
    """Waiting, holding the meeting now, the consent and the dispute."""
    cases, pid, action = core.cases, claim.person_id, claim.action
    if action == "wait":
        waiting, errors = parse.parse_wait(values)
        if errors or waiting.until is None:
            raise FieldError(errors)
        before = await cases.get(ref)
        await cases.wait(pid, ref, waiting.until, waiting.reason)
        return "wait_extended" if before.state is CaseState.WAITING else "wait"
    if action == "hold_now":
        units, errors = parse.parse_hold_now(values)
        if errors:
            raise FieldError(errors)
        await cases.hold_now(pid, ref, units)
        return action
    if action == "renew_consent":
        renew, errors = parse.parse_renew(values)
        if errors or renew.until is None:
            raise FieldError(errors)
        await cases.renew_consent(pid, ref, renew.until, renew.scope, form=renew.form,
                                  obtained_by=renew.obtained_by, covers=renew.covers, note=renew.note)
        return action
    if action == "withdraw_consent_form":
        unit, errors = parse.parse_withdraw(values)
        if errors:
            raise FieldError(errors)
        case: Case = await cases.withdraw_consent(pid, ref, unit=unit)
        return "withdraw_consent_unit" if unit and case.is_open else "withdraw_consent"
    if action in ("dispute", "settle_dispute"):
        text, errors = parse.parse_one_text(values, "tvist_skal" if action == "dispute" else "enig")
        if errors:
            raise FieldError(errors)
        if action == "dispute":
            await core.disputes.dispute(pid, ref, text)
            return action
        settled = await core.disputes.settle(pid, ref, text)
        return "settle_proposed" if settled.disputed else "settled"
    raise KeyError(action)
