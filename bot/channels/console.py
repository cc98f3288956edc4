"""The console adapter: the whole bot from a terminal (Hubot's shell adapter, Errbot's text backend).

Interactive on a terminal, scriptable from stdin (one command per line). Every message the bot sends is
printed as `→ @person-id: text`.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot import audit, readlog
from bot.brister.models import BristForm, parse_brist_ref
from bot.brister.service import BristService
from bot.cases import access, offers
from bot.cases.consent import parse_information
from bot.cases.models import Case, parse_ref
from bot.cases.rules import Action, authorize
from bot.cases.service import GfiRequest
from bot.cases.visibility import Level, has_free_text, shown_free_text, summary
from bot.channels.terminal import neutralise
from bot.clock import as_utc
from bot.core import Core
from bot.directory import Role
from bot.dispatcher import status_counts
from bot.errors import FieldError, Refusal
from bot.messages.text import plain_text
from bot.outbox import OutboxMessage
from bot.stats import export
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from bot.store import deliveries


class ConsoleClock:
    """Real time plus an offset, or a frozen time when started with `--now`; `/tid` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._frozen = as_utc(start) if start else None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def move_to(self, at: datetime) -> None:
        at = as_utc(at)
        if self._frozen is not None:
            self._frozen = at
        else:
            self._offset = at - datetime.now(UTC)


class ConsoleSender:
    """Prints outgoing messages to the terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind == "retract":
            return None  # a terminal cannot take back what it printed
        print_message(self.out, message.recipient_id, message.text)
        return None


def print_message(out: TextIO, recipient: str, text: str) -> None:
    """`→ @person: first line`, continuation lines indented; control characters and escape sequences in
    the text are neutralised (a brief cannot repaint the terminal)."""
    lines = neutralise(text).splitlines() or [""]
    out.write(f"→ @{recipient}: {lines[0]}\n")
    for line in lines[1:]:
        out.write(f"  {line}\n")
    out.flush()


ALIASES: dict[str, str] = {
    "gfi": "gfi", "kö": "ko", "ko": "ko", "queue": "ko",
    "fördela": "fordela", "fordela": "fordela", "omfördela": "omfordela", "omfordela": "omfordela",
    "kvittera": "kvittera", "boka": "boka", "förslag": "forslag", "forslag": "forslag",
    "uteblev": "uteblev", "utfall": "utfall",
    "vänta": "vanta", "vanta": "vanta", "återuppta": "ateruppta", "ateruppta": "ateruppta",
    "hölls": "holls", "holls": "holls",
    "uppföljning": "uppfoljning", "uppfoljning": "uppfoljning", "avsluta": "avsluta",
    "återöppna": "ateroppna", "ateroppna": "ateroppna", "återkalla": "aterkalla", "aterkalla": "aterkalla",
    "mina": "mina", "visa": "visa", "som": "som", "tid": "tid", "klar": "klar",
    "eskaleringar": "eskaleringar", "eskalering": "eskaleringar", "esk": "eskaleringar",
    "taöver": "taover", "taover": "taover", "ta-över": "taover", "ta-over": "taover",
    "påminn": "paminn", "paminn": "paminn", "förnya": "fornya", "fornya": "fornya",
    "leveranser": "leveranser", "statistik": "statistik", "stats": "statistik",
    "läsloggar": "lasloggar", "lasloggar": "lasloggar", "läslogg": "lasloggar", "laslogg": "lasloggar",
    "brist": "brist", "brister": "brister", "utkast": "utkast", "skickain": "skickain", "skicka-in": "skickain",
    "avfärda": "avfarda", "avfarda": "avfarda", "åtgärd": "atgard", "atgard": "atgard", "åtgärder": "atgard",
    "atgarder": "atgard", "dialog": "dialog", "stäng": "stang", "stang": "stang",
    "hjälp": "hjalp", "hjalp": "hjalp", "help": "hjalp", "avsluta-konsol": "quit", "quit": "quit", "exit": "quit",
}



class UsageError(Exception):
    """Malformed arguments: `code` names a branch of the `why` macro in console.j2, shown with the usage."""

    def __init__(self, code: str, **params: str) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def split_args(tokens: list[str]) -> tuple[list[str], dict[str, str], set[str]]:
    """Split tokens into positionals, key=value options and bare flags (lower-case words without '=')."""
    positional: list[str] = []
    options: dict[str, str] = {}
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if sep and key and key.isidentifier():
            options[key.lower()] = value
        else:
            positional.append(tok)
    return positional, options, set()


class ConsoleSession:
    """One console conversation. `handle(line)` runs one command and prints what the bot says."""

    def __init__(self, core: Core, person_id: str, clock: ConsoleClock, out: TextIO) -> None:
        self.core = core
        self.person = person_id
        self.clock = clock
        self.out = out
        self.tz = ZoneInfo(core.settings.timezone)
        self.running = True
        self.usage: dict[str, str] = {
            **core.renderer.env.get_template("console.j2").module.USAGE,  # type: ignore[attr-defined]
            **core.renderer.env.get_template("brister.j2").module.USAGE,  # type: ignore[attr-defined]
        }
        self._commands: dict[str, Callable[[list[str], dict[str, str]], Awaitable[None]]] = {
            "gfi": self.cmd_gfi, "ko": self.cmd_queue, "fordela": self.cmd_assign, "omfordela": self.cmd_reassign,
            "kvittera": self.cmd_ack, "boka": self.cmd_book, "forslag": self.cmd_suggest, "uteblev": self.cmd_no_show,
            "utfall": self.cmd_outcome, "uppfoljning": self.cmd_follow_up, "avsluta": self.cmd_close,
            "ateroppna": self.cmd_reopen, "aterkalla": self.cmd_withdraw, "mina": self.cmd_mine,
            "visa": self.cmd_show, "som": self.cmd_as, "tid": self.cmd_time, "hjalp": self.cmd_help,
            "quit": self.cmd_quit, "klar": self.cmd_done,
            "eskaleringar": self.cmd_escalations, "taover": self.cmd_take_over, "paminn": self.cmd_nudge,
            "fornya": self.cmd_renew, "leveranser": self.cmd_deliveries, "lasloggar": self.cmd_read_log,
            "brist": self.cmd_brist, "brister": self.cmd_brister, "utkast": self.cmd_drafts,
            "skickain": self.cmd_submit_draft, "avfarda": self.cmd_dismiss_draft, "atgard": self.cmd_measures,
            "dialog": self.cmd_dialogue, "stang": self.cmd_close_brist,
            "statistik": self.cmd_stats,
            "vanta": self.cmd_wait, "ateruppta": self.cmd_resume, "holls": self.cmd_hold_now,
        }

    # --- output -----------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print_message(self.out, self.person, text)

    def text(self, name: str, **ctx: object) -> str:
        return self.core.renderer.macro("console", name, **ctx)

    async def show(self, template: str, **ctx: object) -> None:
        """Say a rendered template; a case's free text in it is logged as read."""
        self.say(self.core.renderer.render(template, **ctx))
        await self.log_reads(template, [c.ref for c in shown_free_text(template, ctx)])

    async def log_reads(self, view: str, refs: list[str]) -> None:
        await readlog.record_now(self.core.db, at=self.clock.now(), person_id=self.person, refs=refs, view=view,
                                 channel="console")

    # --- loop -------------------------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        """Run one input line; never raises for user errors."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if not line.startswith("/"):
            self.say(self.text("not_a_command"))
            return
        try:
            tokens = shlex.split(line[1:])
        except ValueError:
            self.say(self.text("bad_args", why=self.text("why", code="unbalanced_quote"), usage="/hjälp"))
            return
        name = ALIASES.get(tokens[0].lower()) if tokens else None
        if name is None:
            self.say(self.text("unknown_command", cmd=line.split()[0]))
            return
        positional, options, _ = split_args(tokens[1:])
        try:
            await self._commands[name](positional, options)
        except UsageError as exc:
            why = self.core.renderer.usage_error("console", "why", code=exc.code, **exc.params)
            self.say(self.text("bad_args", why=why, usage=self.usage[name]))
        except FieldError as exc:
            messages = self.core.renderer.field_errors(exc)
            self.say("\n".join(messages.values()))
        except Refusal as exc:
            exc = await access.masked(self.core.db, self.core.cases.load, self.core.directory, self.person, exc)
            self.say(self.core.renderer.refusal(exc))
        await self.core.tick()

    async def welcome(self) -> None:
        person = self.core.directory.people[self.person]
        now = self.clock.now()
        opens = self.core.outbox.policy(person, now, False)
        quiet_until = opens if opens > now else None
        self.say(self.text("welcome", person=self.person, unit=person.unit, now=now, opens=quiet_until))
        await self.core.tick()

    # --- argument helpers ---------------------------------------------------------------------------
    def _ref(self, positional: list[str], index: int = 0) -> str:
        if len(positional) <= index:
            raise UsageError("need_ref")
        ref = parse_ref(positional[index])
        if ref is None:
            raise UsageError("bad_ref", value=positional[index])
        return ref

    def _datetime(self, value: str) -> datetime:
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            raise UsageError("bad_datetime", value=value) from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        return local.astimezone(UTC)

    @staticmethod
    def _date(value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError("bad_date", value=value) from None

    @staticmethod
    def _obtained_by(options: dict[str, str]) -> str | None:
        """`inhamtat=` (or `inhämtat=`): who obtained the consent; None means the one recording it."""
        value = options.get("inhamtat", options.get("inhämtat", "")).strip()
        return value or None

    @staticmethod
    def _yes_no(value: str | None, what: str) -> bool:
        if value is None:
            raise UsageError("need_yes_no", what=what)
        if value.lower() in ("ja", "j", "yes"):
            return True
        if value.lower() in ("nej", "n", "no"):
            return False
        raise UsageError("yes_no", what=what)

    # --- commands -----------------------------------------------------------------------------------
    async def cmd_gfi(self, positional: list[str], options: dict[str, str]) -> None:
        flags = {p.lower() for p in positional}
        unknown = flags - {"bradskande", "brådskande"}
        if unknown:
            raise UsageError("unknown_args", value=", ".join(sorted(unknown)))
        if "enhet" not in options or "typ" not in options:
            raise UsageError("need_unit_type")
        consent = options.get("samtycke", "").lower() in ("ja", "j", "yes")
        covers, note = parse_information(options.get("avser", ""))
        form = GfiRequest(
            target_unit=options["enhet"],
            case_type=options["typ"].lower(),
            brief=options.get("kort", ""),
            contact=options.get("kontakt"),
            consent_confirmed=consent,
            consent_scope=[u for u in options.get("omfattar", "").split(",") if u],
            consent_valid_until=self._date(options["giltigt"]) if "giltigt" in options else None,
            urgent=bool(flags & {"bradskande", "brådskande"}),
            consent_covers=covers,
            consent_note=note,
            consent_form=options.get("form"),
            consent_obtained_by=self._obtained_by(options),
            children=options.get("barn"),
        )
        await self.core.cases.request(self.person, form)  # the receipt arrives as a message from the bot

    async def cmd_queue(self, positional: list[str], options: dict[str, str]) -> None:
        queues = await self.core.cases.queue(self.person)
        now = self.clock.now()
        ages = {c.ref: self.core.renderer.age(now - c.created_at) for _, cases in queues for c in cases}
        offered = [o for _, cases in queues for c in cases
                   for o in offers.next_steps(c, self.person, self.core.directory)]
        message = self.core.outbox.describe("queue", recipient_id=self.person, offers=offered, queues=queues,
                                            ages=ages, slot=None)
        self.say(plain_text(message))
        await self.log_reads("queue", [c.ref for c in shown_free_text("queue", {"queues": queues})])

    async def _assign(self, positional: list[str], options: dict[str, str], reassign: bool) -> None:
        ref = self._ref(positional)
        people = positional[1:]
        if not people and "annan" not in options:
            raise UsageError("need_assignee")
        case = await self.core.cases.assign(self.person, ref, people, options.get("annan"), reassign=reassign)
        await self._done("assign", case)

    async def cmd_assign(self, positional: list[str], options: dict[str, str]) -> None:
        await self._assign(positional, options, reassign=False)

    async def cmd_reassign(self, positional: list[str], options: dict[str, str]) -> None:
        await self._assign(positional, options, reassign=True)

    async def _done(self, action: str, case: Case, **ctx: object) -> None:
        """Answer the one who acted, with their next steps on the case."""
        message = self.core.outbox.describe(
            "action_done", recipient_id=self.person, case_ref=case.ref, action=action, case=case,
            offers=offers.after_action(case, self.person, self.core.directory), **ctx)
        self.say(plain_text(message))
        await self.log_reads("action_done", [c.ref for c in shown_free_text("action_done", {"action": action,
                                                                                          "case": case})])

    async def cmd_ack(self, positional: list[str], options: dict[str, str]) -> None:
        await self._done("acknowledge", await self.core.cases.acknowledge(self.person, self._ref(positional)))

    async def cmd_book(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) < 2:
            raise UsageError("need_time")
        at = self._datetime(positional[1])
        if "plats" not in options or "enheter" not in options:
            raise UsageError("need_place_units")
        units = [u for u in options["enheter"].split(",") if u]
        confirm = options.get("bekräfta", options.get("bekrafta"))
        confirmed = self._yes_no(confirm, "bekräfta") if confirm is not None else False
        case = await self.core.cases.book(self.person, ref, at, options["plats"], units, confirmed=confirmed)
        await self._done("book", case)

    async def cmd_hold_now(self, positional: list[str], options: dict[str, str]) -> None:
        """*Mötet hölls nu*: the individual turned up and the meeting is being held now, with these units."""
        ref = self._ref(positional)
        if "enheter" not in options:
            raise UsageError("need_units")
        units = [u for u in options["enheter"].split(",") if u]
        await self._done("hold_now", await self.core.cases.hold_now(self.person, ref, units))

    async def cmd_wait(self, positional: list[str], options: dict[str, str]) -> None:
        """*Vilande*: the case waits for the individual until a date, with a reason."""
        ref = self._ref(positional)
        until = options.get("till")
        reason = options.get("skäl", options.get("skal"))
        if not until or reason is None:
            raise UsageError("need_until_reason")
        case = await self.core.cases.wait(self.person, ref, self._date(until), reason)
        await self._done("wait", case)

    async def cmd_resume(self, positional: list[str], options: dict[str, str]) -> None:
        await self._done("resume", await self.core.cases.resume(self.person, self._ref(positional)))

    async def cmd_suggest(self, positional: list[str], options: dict[str, str]) -> None:
        """Free/busy suggestions for booking a case's meeting (Graph), for those who may book it."""
        case = await self.core.cases.get(self._ref(positional))
        authorize(Action.BOOK, case, self.person, self.core.directory)
        slots = await self.core.suggestions.for_booking(case, self.person, self.core.directory, self.clock.now())
        self.say(self.core.renderer.render("meeting_suggestions", ref=case.ref, slots=slots, where="console",
                                           available=self.core.suggestions.available))

    async def cmd_no_show(self, positional: list[str], options: dict[str, str]) -> None:
        await self._done("no_show", await self.core.cases.no_show(self.person, self._ref(positional)))

    async def cmd_outcome(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) < 2:
            raise UsageError("need_outcome")
        evaluated = self._yes_no(options.get("utvardering", options.get("utvärdering")), "utvardering")
        case = await self.core.cases.record_outcome(self.person, ref, positional[1].lower(), evaluated)
        await self._done("record_outcome", case)

    async def cmd_follow_up(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) < 4:
            raise UsageError("need_follow_up")
        owner, due, what = positional[1], self._date(positional[2]), " ".join(positional[3:])
        await self._done("add_follow_up", await self.core.cases.add_follow_up(self.person, ref, owner, due, what))

    async def cmd_done(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) != 2 or not positional[1].isdigit():
            raise UsageError("need_number")
        number = int(positional[1])
        case = await self.core.cases.complete_follow_up(self.person, ref, number)
        await self.show("follow_up_done", case=case, number=number)

    async def cmd_close(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) < 2:
            raise UsageError("need_reason")
        new_contact = options.get("nykontakt")
        answer = None if new_contact is None else self._yes_no(new_contact, "nykontakt")
        try:
            case = await self.core.cases.close(self.person, ref, " ".join(positional[1:]), new_contact=answer)
        except FieldError as exc:
            if "nykontakt" not in exc.errors:
                raise
            messages = self.core.renderer.field_errors(exc)
            self.say(self.text("bad_args", why="\n".join(messages.values()), usage=self.usage["avsluta"]))
            return
        await self._done("close", case)

    async def cmd_reopen(self, positional: list[str], options: dict[str, str]) -> None:
        await self._done("reopen", await self.core.cases.reopen(self.person, self._ref(positional)))

    async def cmd_withdraw(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        unit = options.get("enhet")
        if unit is None:
            await self._done("withdraw_consent", await self.core.cases.withdraw_consent(self.person, ref))
            return
        if not unit:
            raise UsageError("need_unit")
        case = await self.core.cases.withdraw_consent(self.person, ref, unit=unit)
        action = "withdraw_consent_unit" if case.is_open else "withdraw_consent"
        await self._done(action, case, unit=unit)

    async def cmd_renew(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._ref(positional)
        if len(positional) != 2:
            raise UsageError("need_until")
        until = self._date(positional[1])
        scope = [u for u in options.get("omfattar", "").split(",") if u]
        covers, note = parse_information(options.get("avser", ""))
        case = await self.core.cases.renew_consent(
            self.person, ref, until, scope, form=options.get("form"), obtained_by=self._obtained_by(options),
            covers=covers, note=note,
        )
        await self._done("renew_consent", case)

    async def cmd_deliveries(self, positional: list[str], options: dict[str, str]) -> None:
        person = self.core.directory.people[self.person]
        if Role.COORDINATOR not in person.roles:
            self.say(self.text("not_coordinator"))
            return
        async with self.core.db.transaction() as tx:
            rows = await deliveries.failed(tx, 20)
            # a reference the coordinator may not see is not shown (the recipient and the reason are)
            seen = await access.levels(tx, self.core.cases.load, self.core.directory, self.person,
                                       [r["case_ref"] for r in rows if r["case_ref"]])
        failed = [
            {**r, "case_ref": r["case_ref"] if seen.get(r["case_ref"], Level.NONE) > Level.NONE else None,
             "created_at": datetime.fromisoformat(r["created_at"])}
            for r in rows
        ]
        self.say(self.text("deliveries", failed=failed, counts=await status_counts(self.core.db)))

    async def cmd_stats(self, positional: list[str], options: dict[str, str]) -> None:
        """`/statistik [enhet=<id>]`: the last twelve months per unit (coordinators)."""
        person = self.core.directory.people[self.person]
        if Role.COORDINATOR not in person.roles:
            self.say(self.core.renderer.macro("stats", "not_coordinator"))
            return
        unit = options.get("enhet", options.get("verksamhet"))
        if positional or set(options) - {"enhet", "verksamhet"}:
            raise UsageError("unknown_args", value=", ".join([*positional, *sorted(options)]))
        if unit is not None and self.core.directory.unit(unit) is None:
            self.say(self.core.renderer.macro("stats", "unknown_unit", unit=unit))
            return
        start, end = last_twelve_months(self.clock.now().astimezone(self.tz).date())
        report = await build_report(self.core.db, self.core.directory, self.core.calendar,
                                    self.core.settings.timezone, start, end, unit)
        self.say(export.text(self.core.renderer, report))

    async def cmd_mine(self, positional: list[str], options: dict[str, str]) -> None:
        mine = await self.core.cases.mine(self.person)
        self.say(self.core.renderer.render("mine", requests=mine.requests, cases=mine.cases))

    async def cmd_show(self, positional: list[str], options: dict[str, str]) -> None:
        if positional and parse_brist_ref(positional[0]):
            await self._show_brist(positional[0])
            return
        ref = self._ref(positional)
        try:
            async with self.core.db.transaction() as tx:
                seen = await access.read_case(tx, self.core.cases.load, self.core.directory, self.person, ref)
                history = await audit.for_case(tx, seen.case.ref) if seen.full else []
        except Refusal as exc:
            async with self.core.db.transaction() as tx:
                await audit.record(tx, at=self.clock.now(), actor_id=self.person, action="view_case",
                                   result="refused", case_ref=ref, reason=exc.code)
            raise
        if not seen.full:
            self.say(self.text("case_summary", s=summary(seen.case, seen.alerts)))
            return
        for h in history:
            h["at"] = datetime.fromisoformat(h["at"])
            h["reason"] = json.loads(h.get("detail") or "{}").get("reason")
        self.say(self.text("case_view", case=seen.case, history=history))
        if has_free_text(seen.case):
            await self.log_reads("visa", [seen.case.ref])

    async def cmd_read_log(self, positional: list[str], options: dict[str, str]) -> None:
        """`/läsloggar <ref>` (coordinators) or `/läsloggar person=<id> från=<datum> till=<datum>` (admins)."""
        if positional:
            ref = self._ref(positional)
            reads = await readlog.list_for_case(self.core.db, self.core.cases.load, self.core.directory,
                                                self.person, ref)
            self.say(self.text("read_log_case", ref=ref, reads=reads))
            return
        start = options.get("från", options.get("fran"))
        end = options.get("till")
        if "person" not in options or start is None or end is None:
            raise UsageError("need_read_log")
        first, last = self._date(start), self._date(end)
        reads = await readlog.list_for_person(self.core.db, self.core.directory, self.person, options["person"],
                                              first, last, self.core.settings.timezone)
        self.say(self.text("read_log_person", person=options["person"], start=first, end=last, reads=reads))

    def _item(self, positional: list[str]) -> int:
        if len(positional) != 1 or not positional[0].isdigit():
            raise UsageError("need_item")
        return int(positional[0])

    async def cmd_escalations(self, positional: list[str], options: dict[str, str]) -> None:
        items = await self.core.ladder.open_escalations(self.person)
        async with self.core.db.transaction() as tx:
            seen = await access.levels(tx, self.core.cases.load, self.core.directory, self.person,
                                       [i.case_ref for i in items])
        items = [i for i in items if seen[i.case_ref] > Level.NONE]
        self.say(self.text("escalations", items=items))

    async def cmd_take_over(self, positional: list[str], options: dict[str, str]) -> None:
        result = await self.core.ladder.take_over(self.person, self._item(positional))
        self.say(self.text("taken_over", action=result.action, ref=result.case_ref, item=result.item_id))

    async def cmd_nudge(self, positional: list[str], options: dict[str, str]) -> None:
        people = await self.core.ladder.nudge(self.person, self._item(positional))
        self.say(self.text("nudged", people=people))

    async def cmd_as(self, positional: list[str], options: dict[str, str]) -> None:
        if len(positional) != 1:
            raise UsageError("need_person")
        person = self.core.directory.person(positional[0])
        if person is None:
            self.say(self.text("unknown_person", person=positional[0], file=str(self.core.directory.source)))
            return
        self.person = person.id
        self.say(self.text("switched", person=person.id, unit=person.unit))

    async def cmd_time(self, positional: list[str], options: dict[str, str]) -> None:
        if len(positional) != 1:
            raise UsageError("need_when")
        at = self._datetime(positional[0])
        if at < self.clock.now():
            self.say(self.text("clock_backwards", at=self.clock.now()))
            return
        await self.advance_to(at)
        self.say(self.text("clock_moved", at=at))

    async def advance_to(self, at: datetime) -> None:
        """Move the clock to `at` in steps, so what falls due on the way fires in order and at its time."""
        step = timedelta(minutes=15)
        while self.clock.now() + step < at:
            self.clock.move_to(self.clock.now() + step)
            await self.core.tick()
        self.clock.move_to(at)

    # --- brister i samverkan ---------------------------------------------------------------------------
    @property
    def brister(self) -> BristService:
        return self.core.brister

    def brist_text(self, name: str, **ctx: object) -> str:
        return self.core.renderer.macro("brister", name, **ctx)

    def _brist_ref(self, positional: list[str]) -> str:
        if not positional:
            raise UsageError("need_brist_ref")
        ref = parse_brist_ref(positional[0])
        if ref is None:
            raise UsageError("bad_brist_ref", value=positional[0])
        return ref

    def _draft_no(self, positional: list[str]) -> int:
        if not positional or not positional[0].isdigit():
            raise UsageError("need_draft")
        return int(positional[0])

    def _brist_form(self, options: dict[str, str]) -> BristForm:
        """`enheter=`, `orsaker=`, `vad=`, `atgarder=`, `dialog=`, `datum=`, `ref=` (Swedish spellings too)."""
        def opt(*keys: str) -> str | None:
            return next((options[k] for k in keys if k in options), None)

        when = opt("datum")
        return BristForm(
            units=[u for u in (opt("enheter", "enhet") or "").split(",") if u.strip()],
            causes=[c for c in (opt("orsaker", "orsak") or "").split(",") if c.strip()],
            what=opt("vad") or "",
            measures=opt("atgarder", "åtgärder", "atgard", "åtgärd"),
            dialogue=opt("dialog"),
            incident_date=self._date(when) if when else None,
            case_ref=opt("ref", "arende", "ärende"),
        )

    async def cmd_brist(self, positional: list[str], options: dict[str, str]) -> None:
        if positional:
            raise UsageError("unknown_args", value=", ".join(positional))
        report = await self.brister.file(self.person, self._brist_form(options))
        self.say(self.brist_text("filed", report=report))

    async def cmd_brister(self, positional: list[str], options: dict[str, str]) -> None:
        year: int | None = None
        unit: str | None = None
        for p in positional:
            if len(p) == 4 and p.isdigit():
                year = int(p)
            elif self.core.directory.unit(p) is not None:
                unit = p
            else:
                raise UsageError("bad_list_filter", value=p)
        reports = await self.brister.list_reports(self.person, year=year, unit=unit)
        self.say(self.brist_text("report_list", reports=reports, year=year, unit=unit))

    async def _show_brist(self, ref: str) -> None:
        report = await self.brister.get(self.person, ref)
        async with self.core.db.transaction() as tx:
            history = await audit.for_case(tx, report.ref)
        for h in history:
            h["at"] = datetime.fromisoformat(h["at"])
            h["reason"] = json.loads(h.get("detail") or "{}").get("reason")
        self.say(self.brist_text("report_view", r=report, history=history))

    async def cmd_drafts(self, positional: list[str], options: dict[str, str]) -> None:
        if positional:
            draft = await self.brister.draft(self.person, self._draft_no(positional))
            self.say(self.brist_text("draft_view", d=draft, form=self.brister.draft_form(draft)))
            return
        self.say(self.brist_text("drafts", items=await self.brister.open_drafts(self.person)))

    async def cmd_submit_draft(self, positional: list[str], options: dict[str, str]) -> None:
        number = self._draft_no(positional)
        report = await self.brister.submit_draft(self.person, number, self._brist_form(options))
        self.say(self.brist_text("filed", report=report))

    async def cmd_dismiss_draft(self, positional: list[str], options: dict[str, str]) -> None:
        number = self._draft_no(positional)
        if len(positional) < 2:
            raise UsageError("need_reason")
        draft = await self.brister.dismiss_draft(self.person, number, " ".join(positional[1:]))
        self.say(self.brist_text("draft_dismissed", d=draft))

    async def cmd_measures(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._brist_ref(positional)
        if len(positional) < 2:
            raise UsageError("need_text")
        report = await self.brister.record_measures(self.person, ref, " ".join(positional[1:]))
        self.say(self.brist_text("changed", report=report, change="measures"))

    async def cmd_dialogue(self, positional: list[str], options: dict[str, str]) -> None:
        ref = self._brist_ref(positional)
        if len(positional) < 2:
            raise UsageError("need_text")
        report = await self.brister.record_dialogue(self.person, ref, " ".join(positional[1:]))
        self.say(self.brist_text("changed", report=report, change="dialogue"))

    async def cmd_close_brist(self, positional: list[str], options: dict[str, str]) -> None:
        report = await self.brister.close(self.person, self._brist_ref(positional))
        self.say(self.brist_text("changed", report=report, change="closed"))

    async def cmd_help(self, positional: list[str], options: dict[str, str]) -> None:
        self.say(self.core.renderer.render("console_help", units=sorted(self.core.directory.units)))

    async def cmd_quit(self, positional: list[str], options: dict[str, str]) -> None:
        self.running = False


async def run_console(core: Core, person_id: str, clock: ConsoleClock, stdin: TextIO, out: TextIO) -> None:
    """Read commands until EOF or /avsluta-konsol. Echoes scripted input so transcripts are readable."""
    session = ConsoleSession(core, person_id, clock, out)
    interactive = stdin.isatty()
    await session.welcome()
    while session.running:
        if interactive:
            out.write(f"{session.person}> ")
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if not interactive and line.strip():
            out.write(f"@{session.person}> {neutralise(line.strip())}\n")
        await session.handle(line)


def default_out() -> TextIO:
    return sys.stdout
