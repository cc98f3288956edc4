"""False refusals of the identity-number guard on look-alikes: how often ordinary text is wrongly refused.

Run:  .venv/bin/python bench/bench_privacy.py [--n 20000] [--seed 23]

Generates look-alikes staff write every day (phone numbers in Swedish and international groupings, dates,
times, date-and-time, postal codes, organisation numbers, case references, amounts) alone and several in one
sentence, and counts how many the guard (`bot.privacy.find_identity_numbers`) refuses, per kind. Ten-digit
phone numbers whose digits are also a valid personnummer (a real date and a correct check digit, about one
in a hundred mobile numbers) are the documented collision (bot/privacy/__init__.py): they are counted apart, as
expected refusals, and left out of the rate. Also prints the guard's throughput. Prints figures; asserts
nothing. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date

from bot.privacy import find_identity_numbers

TODAY = date(2026, 11, 22)
Gen = Callable[[random.Random], str]


def digits(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789") for _ in range(n))


def mobile(r: random.Random) -> str:
    return "0" + r.choice(["70", "72", "73", "76", "79"])


def phone10(r: random.Random) -> str:
    m, a3 = mobile(r), "0" + r.choice(["31", "40", "46", "90", "11", "13", "18", "19", "21", "54", "60"])
    return r.choice([
        f"{m}-{digits(r, 3)} {digits(r, 2)} {digits(r, 2)}", f"{m} {digits(r, 3)} {digits(r, 2)} {digits(r, 2)}",
        f"{m}-{digits(r, 7)}", f"{a3}-{digits(r, 3)} {digits(r, 2)} {digits(r, 2)}",
        f"08-{digits(r, 3)} {digits(r, 3)} {digits(r, 2)}", f"0{r.choice(['150', '240', '413'])}-{digits(r, 2)} "
        f"{digits(r, 2)} {digits(r, 2)}",
    ])


def phone_other(r: random.Random) -> str:
    m = mobile(r)[1:]
    return r.choice([
        f"+46 {m} {digits(r, 3)} {digits(r, 2)} {digits(r, 2)}", f"+46{m}{digits(r, 7)}",
        f"0046 {m} {digits(r, 3)} {digits(r, 2)} {digits(r, 2)}", f"+46 (0){m}-{digits(r, 3)} {digits(r, 2)} "
        f"{digits(r, 2)}", f"08-{digits(r, 2)} {digits(r, 2)} {digits(r, 2)}",
    ])


def _ymd(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1990, 2030), r.randint(1, 12), r.randint(1, 28)


def a_date(r: random.Random) -> str:
    y, m, d = _ymd(r)
    y2, m2, d2 = _ymd(r)
    return r.choice([
        f"{y}-{m:02d}-{d:02d}", f"{d}/{m}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y}", f"{y}{m:02d}{d:02d}",
        f"{y}-{m:02d}-{d:02d}–{y2}-{m2:02d}-{d2:02d}", f"{y}-{m:02d}-{d:02d} - {y2}-{m2:02d}-{d2:02d}",
        f"{d:02d}.{m:02d}.{y % 100:02d}",
    ])


def a_time(r: random.Random) -> str:
    h, h2 = r.randint(7, 20), r.randint(7, 20)
    mm, mm2 = r.choice(["00", "05", "15", "30", "45"]), r.choice(["00", "15", "30", "45"])
    return r.choice([f"{h:02d}:{mm}", f"kl. {h:02d}.{mm}", f"{h:02d}.{mm}-{h2:02d}.{mm2}",
                     f"{h:02d}:{mm}–{h2:02d}:{mm2}"])


def date_time(r: random.Random) -> str:
    y, m, d = _ymd(r)
    return f"{y}-{m:02d}-{d:02d} {a_time(r).removeprefix('kl. ')}"


def postal(r: random.Random) -> str:
    return r.choice([f"{digits(r, 3)} {digits(r, 2)}", f"SE-{digits(r, 3)} {digits(r, 2)}",
                     f"{digits(r, 3)} {digits(r, 2)} Malmö"])


def org_number(r: random.Random) -> str:
    body = f"{digits(r, 2)}{r.choice('23456789')}{digits(r, 3)}-{digits(r, 4)}"
    return r.choice([body, "16" + body])


def case_ref(r: random.Random) -> str:
    return r.choice([f"GFI-{r.randint(2024, 2030)}-{digits(r, 4)}", f"dnr {r.randint(2020, 2030)}/{digits(r, 4)}"])


def amount(r: random.Random) -> str:
    return r.choice([f"{r.randint(1, 999)} {digits(r, 3)} kr", f"{r.randint(100, 99999)}:-", f"{r.randint(1, 99)} %"])


KINDS: dict[str, Gen] = {
    "phone (Swedish)": phone10, "phone (international)": phone_other, "date": a_date, "time": a_time,
    "date and time": date_time, "postal code": postal, "organisation no.": org_number, "case reference": case_ref,
    "amount": amount,
}
JOINERS = [", ", " och ", "; ", " – kl ", "\nTel: ", " (", " eller ", "\n", " / ", ": "]


def sentence(r: random.Random) -> tuple[str, list[str]]:
    items = [r.choice(list(KINDS.values()))(r) for _ in range(r.randint(2, 4))]
    return "Möte " + r.choice(JOINERS).join(items) + ".", items


def is_collision(text: str) -> bool:
    """The documented collision: the 10 digits of a Swedish phone number are a valid personnummer."""
    ds = "".join(c for c in text if c.isdigit())
    if len(ds) != 10 or not ds.startswith("0"):
        return False
    found = find_identity_numbers(ds, TODAY)
    return bool(found) and found[0].exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="look-alikes per kind (default 20000)")
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    r = random.Random(args.seed)
    gens: dict[str, Callable[[random.Random], tuple[str, list[str]]]] = {
        name: (lambda r, g=g: (g(r), [])) for name, g in KINDS.items()}
    gens["2–4 in a sentence"] = sentence
    print(f"False refusals of the identity-number guard, {args.n} generated look-alikes per kind (seed {args.seed})")
    print(f"{'kind':<24}{'refused':>9}{'rate':>10}   example refused")
    total = refused_total = collisions = 0
    checked = 0
    started = time.perf_counter()
    for name, gen in gens.items():
        refused = 0
        example = ""
        for _ in range(args.n):
            text, items = gen(r)
            found = find_identity_numbers(text, TODAY)
            checked += 1
            if not found:
                continue
            spans = [text[m.start : m.end] for m in found]
            if all(is_collision(s) and (s == text or s in items) for s in spans):
                collisions += 1
                continue
            refused += 1
            example = example or text
        total += args.n
        refused_total += refused
        print(f"{name:<24}{refused:>9}{refused / args.n:>10.4%}   {example!r}"[:140])
    elapsed = time.perf_counter() - started
    print(f"{'all':<24}{refused_total:>9}{refused_total / total:>10.4%}")
    print(f"documented collision (phone digits that are a valid personnummer), not counted: {collisions}")
    print(f"throughput: {checked / elapsed:,.0f} texts/s ({elapsed:.1f} s for {checked} texts)")


if __name__ == "__main__":
    main()
