"""Request forms for bursts against a `gfi-bot run` process: built, signed, posted, and their answers read."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.test_slack_lifecycle import request_values
from tests.fakes.slack_signing import (
    interaction_body,
    plain_text_state,
    signed_headers,
    static_select_state,
    view_submission_payload,
)
from tests.faults.process import SECRET

REF = re.compile(r"GFI-\d{4}-\d{4}")
# (Slack user id, person id, target unit): staff of four units, each asking another unit
SUBMITTERS = [
    ("U01MARIA", "maria.sand", "beroende"), ("U01OMAR", "omar.haddad", "beroende"),
    ("U02PETRA", "petra.lund", "psykiatri"), ("U04LINNEA", "linnea.fors", "psykiatri"),
    ("U05YUSUF", "yusuf.kaya", "beroende"), ("U01ANNA", "anna.lind", "vc-centrum"),
]


@dataclass(frozen=True)
class Submission:
    n: int
    user: str
    body: bytes

    @property
    def brief(self) -> str:
        return f"Burst {self.n}, vuxen, behöver samordning"


def submission(n: int, submitter: tuple[str, str, str] | None = None) -> Submission:
    """The n:th request form of a burst (its own view id: submitting it again is the same submission), by
    `submitter` (Slack user, person, target unit) or the n:th of SUBMITTERS."""
    user, person, unit = submitter or SUBMITTERS[n % len(SUBMITTERS)]
    values = request_values(enhet=static_select_state(unit), inhamtat=static_select_state(person),
                            kort=plain_text_state(f"Burst {n}, vuxen, behöver samordning"),
                            kontakt=plain_text_state(f"Nås på 0450-12 30 {n:02d}"))
    state = {block: {"v": st} for block, st in values.items()}
    payload = view_submission_payload(user, "gfi_request", state, view_id=f"VBURST{n:04d}")
    return Submission(n, user, interaction_body(payload))


async def post(http: aiohttp.ClientSession, url: str, body: bytes, *, at: int | None = None) -> tuple[int, str] | None:
    """The answer, or None when the bot never answered (killed, refused the connection). `at`: the signature's
    timestamp (Unix seconds; now by default)."""
    try:
        async with http.post(url, data=body, headers=signed_headers(SECRET, body, timestamp=at)) as resp:
            return resp.status, await resp.text()
    except (aiohttp.ClientError, ConnectionError):
        return None


def answer_text(answer: tuple[int, str] | None) -> str:
    """The ack's body as readable text (JSON unescaped), '' for none."""
    if answer is None or not answer[1]:
        return ""
    try:
        return json.dumps(json.loads(answer[1]), ensure_ascii=False)
    except ValueError:
        return answer[1]


def filed_ref(answer: tuple[int, str] | None) -> str | None:
    """The reference the bot confirmed in its ack, if it did."""
    if answer is None or answer[0] != 200:
        return None
    text = answer_text(answer)
    match = REF.search(text)
    return match.group(0) if match and "registrerad" in text else None


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's store from outside (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()
