"""Every action a message can offer, once: its label, the console command, the Slack button, the confirmation.

A message carries offers as data (`bot.messages.model.Offer`); each channel turns an offer into its own form
from this table: Slack a button (`slack_action_id`, `value`), the console a command to type (`command`),
Teams a card action, e-mail a link. The Swedish words (labels, confirmations) live in
`templates/messages/_actions.j2`. The names are those of the e-mail channel's signed links
(`bot/channels/graph/links.py`) where an action can be taken from a link.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader

from bot.config import PROJECT_ROOT
from bot.messages.model import Offer

ACKNOWLEDGE = "acknowledge"
ASSIGN = "assign"
BOOK = "book"
REBOOK = "rebook"
BOOK_AGAIN = "book_again"  # after a no-show
NO_SHOW = "no_show"
RECORD_OUTCOME = "record_outcome"
ADD_FOLLOW_UP = "add_follow_up"
FOLLOW_UP_DONE = "complete_follow_up"  # item = the follow-up's number (1-based)
ACCEPT_FOLLOW_UP = "accept_follow_up"  # a follow-up proposed across principals; item = its number
DECLINE_FOLLOW_UP = "decline_follow_up"  # the same proposal declined (confirmed); item = its number
CLOSE = "close"
REOPEN = "reopen"
WITHDRAW_CONSENT = "withdraw_consent"  # the whole consent, at once (confirmed)
WITHDRAW_CONSENT_FORM = "withdraw_consent_form"  # a form: whole, or for one unit
RENEW_CONSENT = "renew_consent"
RESUME = "resume"  # a waiting (vilande) case
WAIT = "wait"  # a form: until when, and why (vilande)
HOLD_NOW = "hold_now"  # a form: the units at the meeting being held now
APPOINT = "appoint"  # a form: who attends the meeting for the distributor's unit
LADDER_TAKE_OVER = "take_over"  # item = the awaiting item (escalation) id
LADDER_NUDGE = "nudge"
LADDER_REASSIGN = "reassign"
OPEN_CASE = "open"
JOURNAL = "journal"  # the journal record: plain text to paste into one's own journal system
DISPUTE = "dispute"  # a form: why the case is not the receiving unit's (tvist)
SETTLE_DISPUTE = "settle_dispute"  # a form: what was agreed (a proposal, or the other side's confirmation)
CONFIRM_AGREEMENT = "confirm_agreement"  # the other side's proposal is agreed: the dispute is settled (confirmed)
SAMVERKAN_DECIDE = "samverkan_decide"  # item = the matter: its samverkansgrupp records what was decided (a form)
TO_SAMVERKAN = "to_samverkan"  # item = the awaiting item: a coordinator opens the brist draft for the samverkansnivå
# Reports of brister i samverkan (item-less; ref = the report's BRIST-ÅÅÅÅ-NNNN)
BRIST_MEASURES = "brist_measures"
BRIST_DIALOGUE = "brist_dialogue"
BRIST_CLOSE = "brist_close"
BRIST_OPEN = "brist_open_report"


@dataclass(frozen=True)
class ActionSpec:
    """How one action is offered on every channel."""

    name: str
    command: str  # the console command, with {ref} and {item}
    slack_action_id: str | None  # None: not offered as a Slack button (no listener)
    value: str = "{ref}"  # the Slack button value
    style: str | None = None  # "primary" is set per offer; "danger" for what cannot be undone
    form: bool = False  # opens a form (on Slack a modal) rather than acting at once
    label: str = ""
    confirm: tuple[str, str] | None = None  # (title, text with {ref}): asked before acting

    def fill(self, template: str, offer: Offer) -> str:
        return template.format(ref=offer.ref or "", item="" if offer.item is None else offer.item)

    def command_for(self, offer: Offer) -> str:
        """What to type in the console to take the offer."""
        return self.fill(self.command, offer)

    def value_for(self, offer: Offer) -> str:
        """The Slack button value (the handlers parse it: a reference, "ref/nr" or an item id)."""
        return self.fill(self.value, offer)

    def confirm_for(self, offer: Offer) -> tuple[str, str] | None:
        """The confirmation (title, text) to ask before acting, if any."""
        return (self.confirm[0], self.fill(self.confirm[1], offer)) if self.confirm else None


_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec(ACKNOWLEDGE, "/kvittera {ref}", "gfi_ack"),
    ActionSpec(ASSIGN, "/fördela {ref} <person> [<person> …]", "gfi_assign_open", form=True),
    ActionSpec(BOOK, '/boka {ref} <ÅÅÅÅ-MM-DDTHH:MM> plats="<text>" enheter=<enhet>,<enhet>', "gfi_book_open",
               form=True),
    ActionSpec(REBOOK, '/boka {ref} <ÅÅÅÅ-MM-DDTHH:MM> plats="<text>" enheter=<enhet>,<enhet>', "gfi_book_open",
               form=True),
    ActionSpec(BOOK_AGAIN, '/boka {ref} <ÅÅÅÅ-MM-DDTHH:MM> plats="<text>" enheter=<enhet>,<enhet>',
               "gfi_book_open", form=True),
    ActionSpec(NO_SHOW, "/uteblev {ref}", "gfi_no_show"),
    ActionSpec(RECORD_OUTCOME, "/utfall {ref} lotsning|kartläggning|sip|ingen utvärdering=ja|nej",
               "gfi_outcome_open", form=True),
    ActionSpec(ADD_FOLLOW_UP, '/uppföljning {ref} <person> <ÅÅÅÅ-MM-DD> "<vad>"', "gfi_follow_up_open", form=True),
    ActionSpec(FOLLOW_UP_DONE, "/klar {ref} {item}", "gfi_follow_up_done", value="{ref}/{item}"),
    ActionSpec(ACCEPT_FOLLOW_UP, "/acceptera {ref} {item}", "gfi_follow_up_accept", value="{ref}/{item}"),
    ActionSpec(DECLINE_FOLLOW_UP, "/avböj-uppföljning {ref} {item}", "gfi_follow_up_decline", value="{ref}/{item}"),
    ActionSpec(CLOSE, '/avsluta {ref} "<skäl>"', "gfi_close_open", form=True),
    ActionSpec(REOPEN, "/återöppna {ref}", "gfi_reopen"),
    ActionSpec(RESUME, "/återuppta {ref}", "gfi_resume"),
    ActionSpec(WAIT, '/vänta {ref} till=ÅÅÅÅ-MM-DD skäl="<text>"', "gfi_wait_open", form=True),
    ActionSpec(HOLD_NOW, "/hölls {ref} enheter=<enhet>,<enhet>", "gfi_hold_now_open", form=True),
    ActionSpec(APPOINT, "/utse {ref} <person>", "gfi_appoint_open", form=True),
    ActionSpec(WITHDRAW_CONSENT, "/återkalla {ref}", "gfi_withdraw", style="danger"),
    ActionSpec(WITHDRAW_CONSENT_FORM, "/återkalla {ref} [enhet=<enhet>]", "gfi_withdraw_open", style="danger",
               form=True),
    ActionSpec(RENEW_CONSENT, "/förnya {ref} ÅÅÅÅ-MM-DD", "gfi_renew_open", form=True),
    ActionSpec(LADDER_TAKE_OVER, "/taöver {item}", "ladder_take_over", value="{item}"),
    ActionSpec(LADDER_NUDGE, "/påminn {item}", "ladder_nudge", value="{item}"),
    ActionSpec(LADDER_REASSIGN, "/omfördela {ref} <person> [<person> …]", "ladder_reassign", value="{item}",
               form=True),
    ActionSpec(OPEN_CASE, "/visa {ref}", None),
    ActionSpec(JOURNAL, "/journal {ref}", "gfi_journal"),
    ActionSpec(DISPUTE, '/inte-vårt {ref} "<skäl>"', "gfi_dispute_open", form=True),
    ActionSpec(SETTLE_DISPUTE, '/enig {ref} "<vad som överenskoms>"', "gfi_settle_open", form=True),
    ActionSpec(CONFIRM_AGREEMENT, "/enig {ref}", "gfi_agree"),
    ActionSpec(TO_SAMVERKAN, "/samverkan {item}", "ladder_samverkan", value="{item}"),
    ActionSpec(SAMVERKAN_DECIDE, '/samverkansbeslut {item} "<beslut>"', "samverkan_decide_open", value="{item}",
               form=True),
    ActionSpec(BRIST_MEASURES, '/åtgärd {ref} "<vidtagna åtgärder>"', "brist_measures_open", form=True),
    ActionSpec(BRIST_DIALOGUE, '/dialog {ref} "<resultat av dialogen>"', "brist_dialogue_open", form=True),
    ActionSpec(BRIST_CLOSE, "/stäng {ref}", "brist_close"),
    ActionSpec(BRIST_OPEN, "/visa {ref}", "brist_report_open"),
)


@functools.cache
def _words() -> tuple[dict[str, str], dict[str, list[str]]]:
    env = Environment(loader=FileSystemLoader(str(PROJECT_ROOT / "templates" / "messages")))
    module = env.get_template("_actions.j2").module
    return dict(module.LABELS), dict(module.CONFIRM)  # type: ignore[attr-defined]


def _table() -> dict[str, ActionSpec]:
    labels, confirms = _words()
    out: dict[str, ActionSpec] = {}
    for spec in _SPECS:
        confirm = confirms.get(spec.name)
        out[spec.name] = ActionSpec(
            spec.name, spec.command, spec.slack_action_id, spec.value, spec.style, spec.form,
            label=labels[spec.name], confirm=(confirm[0], confirm[1]) if confirm else None,
        )
    return out


ACTIONS: dict[str, ActionSpec] = _table()


def spec(offer: Offer) -> ActionSpec:
    """The table row of an offer (KeyError for an unknown action: a programming error)."""
    return ACTIONS[offer.action]


@functools.cache
def confirm_words() -> tuple[str, str]:
    """The Swedish yes and no of a confirmation (read once: compiling the template took 30 ms a button)."""
    env = Environment(loader=FileSystemLoader(str(PROJECT_ROOT / "templates" / "messages")))
    module = env.get_template("_actions.j2").module
    return str(module.YES), str(module.NO)  # type: ignore[attr-defined]
