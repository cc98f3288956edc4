"""Every action Slack offers (a button or a form) can be taken by an e-mail person from a link (issue #20 item 8,
"no dead ends"): the test walks the shared actions table (bot/messages/actions.py) and Slack's registered action
listeners, and fails for an action Slack has and the link pages lack. The exceptions are listed, with why."""

from __future__ import annotations

import inspect
from pathlib import Path

from bot.channels.graph import forms, links, steps, submit
from bot.channels.graph.mail import LABELS, render_mail
from bot.channels.graph.templates import GraphTemplates
from bot.core import Core
from bot.disputes.samverkan import decide_offer
from bot.messages.actions import ACTIONS
from bot.messages.model import Message, Offer
from tests.unit.test_teams_coverage import SLACK_ONLY, slack_action_ids

PAGE = Path(__file__).resolve().parents[2] / "templates" / "messages" / "graph_link_page.html.j2"

# Actions of the table a link does not carry, and why an e-mail person does not need one.
NOT_BY_LINK: dict[str, str] = {}  # none: the samverkansnivå's decision was the last (a form with `beslut`)
# Slack's buttons that are not rows of the table: the App Home's own (filing a request, absences, brist drafts and
# reports, the yearly report, statistics). An e-mail person has no Home: they file requests and absences through
# their organisation's Slack or Teams, or by a coordinator; the coordinator's views are Slack's and Teams' Home.
HOME_ONLY = frozenset(SLACK_ONLY)


def test_every_action_slack_offers_can_be_taken_from_a_link() -> None:
    offered = {name for name, spec in ACTIONS.items() if spec.slack_action_id}
    missing = sorted(offered - links.ACTIONS - set(NOT_BY_LINK))
    assert not missing, f"actions Slack offers and the link pages lack: {missing}"
    assert not set(NOT_BY_LINK) & links.ACTIONS, "an exception that is no longer one"


def test_every_slack_listener_is_a_link_action_or_a_named_home_button() -> None:
    by_slack_id = {spec.slack_action_id: name for name, spec in ACTIONS.items() if spec.slack_action_id}
    unknown = sorted(a for a in slack_action_ids()
                     if a not in HOME_ONLY and by_slack_id.get(a) not in links.ACTIONS | set(NOT_BY_LINK))
    assert not unknown, f"Slack listeners with neither a link action nor a named exception: {unknown}"


def test_every_link_action_has_a_label_a_page_and_a_handler() -> None:
    page = PAGE.read_text(encoding="utf-8")
    submitted = inspect.getsource(submit)
    for action in sorted(links.ACTIONS):
        assert LABELS.get(action), f"no label for the link action {action} (MAIL_LINKS)"
        if action in links.FORMS | links.ONE_CLICK:  # a view's page says what it shows: the case, by default
            assert f'"{action}"' in page, f"the link page never names {action}: what it does, before the POST"
        if action in links.FORMS:
            assert action in forms.FORM_ACTIONS or action in forms.BRIST_FORMS or action in forms.SAMVERKAN_FORMS, \
                f"{action}: no rule before its form"
            assert f'"{action}"' in submitted, f"{action}: no service call for its form"
        elif action in links.ONE_CLICK:
            assert action in steps.ONE_CLICK, f"{action}: not done by steps.perform"
        else:
            assert action in links.VIEW_ACTIONS
    assert set(forms.FORM_ACTIONS) | set(forms.BRIST_FORMS) | forms.SAMVERKAN_FORMS == set(links.FORMS)
    assert set(steps.ONE_CLICK) == set(links.ONE_CLICK), "a one-click step no link carries"
    assert not links.FORMS & links.ONE_CLICK and not links.VIEW_ACTIONS & (links.FORMS | links.ONE_CLICK)


def test_links_in_an_email_about_several_cases_say_which_case(core: Core) -> None:
    """The distributor's queue e-mail offers *Fördela* for each case: each link names its case."""
    templates = GraphTemplates(core.renderer)
    several = Message("queue", "Kö", offers=(Offer("assign", "GFI-2026-0001"), Offer("assign", "GFI-2026-0002")))
    mail = render_mail(several, templates, lambda offer: f"https://gfi.example.se/a/{offer.ref}")
    assert "Fördela GFI-2026-0001" in mail.html and "Fördela GFI-2026-0002" in mail.text
    one = Message("assigned_to_you", "Fördelat", offers=(Offer("acknowledge", "GFI-2026-0001"),),
                  case_ref="GFI-2026-0001")
    mail = render_mail(one, templates, lambda offer: f"https://gfi.example.se/a/{offer.action}")
    assert ">Kvittera<" in mail.html and "Kvittera GFI" not in mail.html


def test_the_samverkan_matter_mailed_to_a_group_contact_carries_the_decision_link(core: Core) -> None:
    """Where Slack shows *Registrera beslut* on the matter's message, the e-mail carries the link (its item: the
    matter)."""
    made: list[Offer] = []

    def link(offer: Offer) -> str:
        made.append(offer)
        return "https://gfi.example.se/a/x"

    matter = Message("samverkan_matter", "Fråga", offers=(decide_offer("GFI-2026-0001", 3),), case_ref="GFI-2026-0001")
    mail = render_mail(matter, GraphTemplates(core.renderer), link)
    assert ">Registrera beslut<" in mail.html and "Registrera beslut" in mail.text
    assert ("samverkan_decide", "GFI-2026-0001", 3) in [(o.action, o.ref, o.item) for o in made]
    assert ("open", "GFI-2026-0001") in [(o.action, o.ref) for o in made]  # a contact who may see the case
    made.clear()
    hidden = Message("samverkan_matter", "Fråga", offers=(decide_offer("GFI-2026-0001", 3),), case_ref="GFI-2026-0001",
                     extra={"case_hidden": "ja"})
    mail = render_mail(hidden, GraphTemplates(core.renderer), link)
    assert "Visa ärendet" not in mail.html and [o.action for o in made] == ["samverkan_decide"]
    assert "samverkan_decide" in links.ACTIONS
