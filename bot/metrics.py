"""Prometheus metrics (prometheus_client), scraped at `/metrics`.

Labels are fixed, small sets: channel, kind of request, outcome, job, rung number. Never a person, a case
reference, a unit or any free text (tests/unit/test_metrics.py scrapes a bot and fails on any such label);
`label()` folds anything outside a label's known values into "other".
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.store import db as store_db

REGISTRY = CollectorRegistry(auto_describe=True)

CHANNELS = ("slack", "teams", "graph", "links", "console", "health", "other")
KINDS = ("command", "block_actions", "view_submission", "view_closed", "event_callback", "url_verification",
         "block_suggestion", "shortcut", "message", "invoke", "conversationUpdate", "installationUpdate",
         "page", "action", "readyz", "healthz", "metrics", "other")
OUTCOMES = ("ok", "refused", "bad_request", "not_found", "error")
JOBS = ("sweep", "dispatch", "distribution", "purge", "other")
MAX_RUNG = 9

REQUESTS = Counter("gfi_requests", "Requests received, by channel, kind and outcome",
                   ("channel", "kind", "outcome"), registry=REGISTRY)
ACK_SECONDS = Histogram("gfi_ack_seconds", "Time from a request's arrival to the answer (Slack's ack is the answer)",
                        ("channel",), registry=REGISTRY,
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0))
OUTBOX = Counter("gfi_outbox_messages", "Outbox messages queued, sent, failed for good, and retries",
                 ("channel", "event"), registry=REGISTRY)
OUTBOX_PENDING = Gauge("gfi_outbox_pending", "Messages waiting in the outbox (at the last scrape)", registry=REGISTRY)
OUTBOX_OLDEST = Gauge("gfi_outbox_oldest_pending_seconds", "Age of the oldest waiting message (at the last scrape)",
                      registry=REGISTRY)
ESCALATIONS = Counter("gfi_escalations", "Escalations, by the rung reached (0 = the first)", ("rung",),
                      registry=REGISTRY)
JOB_SECONDS = Histogram("gfi_job_seconds", "Duration of background jobs (the sweep, the dispatcher, ...)",
                        ("job",), registry=REGISTRY, buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOB_OVERRUNS = Counter("gfi_job_overruns", "Background job runs skipped: the job's previous run was still going",
                       ("job",), registry=REGISTRY)
TRANSACTION_SECONDS = Histogram("gfi_store_transaction_seconds", "Time a write transaction holds the store",
                                registry=REGISTRY, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
PRUNED = Counter("gfi_pruned_rows", "Rows deleted by the nightly purge from the per-request tables, by table",
                 ("table",), registry=REGISTRY)
LAST_TICK = Gauge("gfi_scheduler_last_tick_timestamp_seconds", "When the sweep last finished (Unix time)",
                  registry=REGISTRY)


store_db.transaction_observers.append(TRANSACTION_SECONDS.observe)


def label(value: str | None, allowed: tuple[str, ...]) -> str:
    """`value` when it is one of `allowed`, else "other": no label can carry anything else."""
    return value if value in allowed else "other"


def outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "refused"
    if status == 404:
        return "not_found"
    if status < 500:
        return "bad_request"
    return "error"


def rung(number: int) -> str:
    return str(min(max(number, 0), MAX_RUNG))


def outbox_event(channel: str, event: str) -> None:
    OUTBOX.labels(label(channel, CHANNELS), event).inc()
