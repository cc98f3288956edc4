"""Console commands for closing a case and for its consent: /avsluta, /återöppna, /återkalla, /förnya."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cases.consent import parse_information
from bot.channels.console.args import UsageError, case_ref, day, option, yes_no
from bot.channels.console.requests import obtained_by
from bot.errors import FieldError

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def close(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/avsluta <ref> <skäl> [nykontakt=ja|nej] [följ-upp=avbryt|överlåt]`."""
    ref = case_ref(positional)
    if len(positional) < 2:
        raise UsageError("need_reason")
    new_contact = options.get("nykontakt")
    answer = None if new_contact is None else yes_no(new_contact, "nykontakt")
    try:
        case = await s.core.cases.close(s.person, ref, " ".join(positional[1:]), new_contact=answer,
                                        follow_ups=option(options, "folj-upp", "följ-upp", "foljupp"))
    except FieldError as exc:
        if "nykontakt" not in exc.errors and "foljupp" not in exc.errors:
            raise
        messages = s.core.renderer.field_errors(exc, channel="console")
        s.say(s.text("bad_args", why="\n".join(messages.values()), usage=s.usage["avsluta"]))
        return
    await s.done("close", case)


async def reopen(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/återöppna <ref>`."""
    await s.done("reopen", await s.core.cases.reopen(s.person, case_ref(positional)))


async def withdraw(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/återkalla <ref> [enhet=<enhet>]`: the consent is withdrawn, for everyone or for one unit."""
    ref = case_ref(positional)
    unit = options.get("enhet")
    if unit is None:
        await s.done("withdraw_consent", await s.core.cases.withdraw_consent(s.person, ref))
        return
    if not unit:
        raise UsageError("need_unit")
    case = await s.core.cases.withdraw_consent(s.person, ref, unit=unit)
    action = "withdraw_consent_unit" if case.is_open else "withdraw_consent"
    await s.done(action, case, unit=unit)


async def renew(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/förnya <ref> <giltigt till> [omfattar=] [avser=] [form=] [inhämtat=]`."""
    ref = case_ref(positional)
    if len(positional) != 2:
        raise UsageError("need_until")
    until = day(positional[1])
    scope = [u for u in options.get("omfattar", "").split(",") if u]
    covers, note = parse_information(options.get("avser", ""))
    case = await s.core.cases.renew_consent(
        s.person, ref, until, scope, form=options.get("form"), obtained_by=obtained_by(options),
        covers=covers, note=note,
    )
    await s.done("renew_consent", case)


COMMANDS = {"avsluta": close, "ateroppna": reopen, "aterkalla": withdraw, "fornya": renew}
ALIASES = {
    "avsluta": "avsluta", "återöppna": "ateroppna", "ateroppna": "ateroppna", "återkalla": "aterkalla",
    "aterkalla": "aterkalla", "förnya": "fornya", "fornya": "fornya",
}
