"""`scripts/bench` (bench/run.py): which parts a plan runs, and the issue rows it picks out of all the rows.
The benchmarks themselves are never run here (their figures are not tests)."""

from __future__ import annotations

from bench import run
from bench.table import Row

# rows named exactly as the modules name them (bench_slack_acks, bench_scale, bench_reads, bench_busy,
# bench_postgres), a few of each
ROWS = [
    Row("acks", "submission ack median, concurrency 16 (SQLite)", 36.0, "ms", floor=18.0, target="≤ 2× floor",
        met=True, load=0.5),
    Row("acks", "submission ack median, concurrency 16 (PostgreSQL)", 104.0, "ms", floor=16.0, target="≤ 2× floor",
        met=False, load=0.7),
    Row("sweeps", "sweep tick, 10³ due, 100 000 open: database time", 83.1, "ms", target="< 100 ms", met=True,
        load=0.6),
    Row("sweeps", "sweep tick, 10³ due, 100 000 open, PostgreSQL: database time", 254.0, "ms", target="< 100 ms",
        met=False, load=0.8),
    Row("sweeps", "sweep tick, 10³ due, 10 000 open: database time", 9.0, "ms", target="< 100 ms", met=True),
    Row("home", "Home refresh, coordinator (12 months of statistics, median of 5), 100 000 open", 5.6, "ms",
        target="< 50 ms", met=True, load=0.6),
    Row("reads", "cases.queue() (the first page of each queue, and its length), 100 000 open, PostgreSQL", 5.0,
        "ms", target="< 50 ms", met=True, load=1.0),
    Row("acks", "/gfi ack p99, c=16, 100 000 open, PostgreSQL, while a coordinator's Home refreshes (4 published)",
        1786.0, "ms", floor=1135.0, target="unchanged: ≤ 1.5× idle (745 ms)", met=False, load=19.4),
    Row("postgres", "submission ack median, c=16 (PostgreSQL, 1 instance)", 104.0, "ms", floor=16.1,
        target="≤ 2× floor", met=False, load=1.0),
    Row("postgres", "filings per second, c=64 (PostgreSQL, 3 instances)", 129.0, "/s", floor=300.0,
        target="≥ 2× one instance", met=False, load=1.2),
    Row("postgres", "outbox: 10000 messages to 1000 recipients, 3 dispatchers", 11.4, "s", target="< 15 s",
        met=True, load=1.4),
]


def line(lines: list[tuple[str, ...]], label: str) -> tuple[str, ...]:
    return next(x for x in lines if x[0] == label)


def test_each_engine_lands_in_its_column_with_its_ratio_and_load() -> None:
    lines = run.summary(ROWS, run.TARGETS)["#21"]
    assert line(lines, "submission ack median, c=16") == (
        "submission ack median, c=16", "36.0 ms (2.00× bare)", "104 ms (6.50× bare)", "≤ 2× floor",
        "SQLite yes / PostgreSQL NO", "0.5 / 0.7")
    # 10⁵, not the 10⁴ row of the same name
    assert line(lines, "sweep of 10³ due at 10⁵ open: database time")[1:] == (
        "83.1 ms", "254 ms", "< 100 ms", "SQLite yes / PostgreSQL NO", "0.6 / 0.8")
    assert line(lines, "coordinator's Home, 10⁵ open")[1:3] == ("5.60 ms", "–")
    assert line(lines, "cases.queue(), 10⁵ open")[1:3] == ("–", "5.00 ms")
    busy = line(lines, "/gfi ack p99, c=16, 10⁵ open, while a coordinator's Home refreshes")
    assert busy[1:3] == ("–", "1 786 ms (1.57× bare)")


def test_a_row_the_run_did_not_measure_says_which_option_does() -> None:
    targets = run.summary(ROWS, run.TARGETS)
    home = line(targets["#21"], "coordinator's Home, 10⁶ open")
    assert home[1:3] == ("–", "–") and home[4] == "not in this run: --full"
    rss = line(targets["#21"], "RSS of gfi-bot run, 10⁶ open, after sweeps, a slot and Homes")
    assert rss[2] == "n/a"  # no such figure on PostgreSQL
    assert rss[4] == "not in this run: part not chosen, no PostgreSQL, or failed (see above)"  # the default has it
    quick = run.summary([r for r in ROWS if "100 000" not in r.metric], run.QUICK)["#21"]
    assert line(quick, "sweep of 10³ due at 10⁵ open: database time")[4] == "not in this run: without --quick"
    full = run.summary([], run.FULL)["#22"]
    assert line(full, "leader failover after SIGKILL")[4].startswith("not in this run: part not chosen")


def test_issue_22_rows() -> None:
    lines = run.summary(ROWS, run.TARGETS)["#22"]
    assert line(lines, "filings per second, c=64, 3 instances")[1:5] == (
        "n/a", "129 /s (0.43× bare)", "≥ 2× one instance", "PostgreSQL NO")
    assert line(lines, "outbox: 10⁴ messages to 1,000 recipients, 3 dispatchers")[2] == "11.4 s"


def test_parts_are_chosen_by_their_name_or_their_module() -> None:
    names = {p.name for p in run.PARTS if run.chosen(p, ["sweeps", "outbox"])}
    assert names == {"sweeps", "outbox"}
    assert {p.name for p in run.PARTS if run.chosen(p, ["scale", "acks"])} == {"sweeps", "acks"}
    assert all(run.chosen(p, None) for p in run.PARTS)


def test_markdown_tables(capsys) -> None:  # type: ignore[no-untyped-def]
    run.print_summary(ROWS, run.TARGETS, markdown=True)
    out = capsys.readouterr().out
    assert "| figure | SQLite | PostgreSQL | target | met | load |" in out
    assert "| submission ack median, c=16 | 36.0 ms (2.00× bare) | 104 ms (6.50× bare) |" in out
