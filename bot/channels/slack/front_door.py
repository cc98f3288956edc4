"""The Slack HTTP front door: `POST /slack/events` and `GET /healthz`.

The guard checks the Slack signature and timestamp itself before Bolt sees the body, so that forged or
replayed requests get 401 and malformed ones 400 (Bolt would parse the body first and fail with a 500); a body
over `bot.channels.payload.MAX_BODY_BYTES` gets 413 and JSON nested deeper than `MAX_DEPTH` 400, before any
parser sees it. The body is parsed once, and Bolt is handed the parsed dict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot import health
from bot.channels import payload
from bot.channels.slack.deadlines import deadline_middleware
from bot.core import Core
from bot.numerals import is_number

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SLACK_BODY = web.RequestKey("gfi.slack_body", dict[str, Any])  # the body as the guard parsed it, for Bolt


def _problem(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def _has(data: Any, *path: str | int) -> bool:
    """True when data[path...] exists and is not empty."""
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return False
    return data not in (None, "", [], {})


# What every payload of a kind carries (Bolt's own matchers index these without checking).
_REQUIRED: dict[str, list[tuple[str | int, ...]]] = {
    "block_actions": [("user", "id"), ("actions", 0, "action_id")],
    "view_submission": [("user", "id"), ("view", "id"), ("view", "type"), ("view", "callback_id")],
    "view_closed": [("user", "id"), ("view", "id"), ("view", "type"), ("view", "callback_id")],
    "event_callback": [("event", "type"), ("event_id",)],
    "url_verification": [("challenge",)],
    "shortcut": [("callback_id",)],
    "message_action": [("callback_id",)],
    "block_suggestion": [("action_id",)],
    "interactive_message": [("actions", 0)],
}


# Fields Bolt reads without checking their type when it logs a request no listener handles.
_OBJECTS = ("view", "event")
_LISTS_OF_OBJECTS = ("actions",)
_EVENT_OBJECTS = ("message", "previous_message")  # in the event: its matchers look into these


# Ids Bolt pastes into text (its warning about an unhandled request joins `'"' + action_id + '"'`): when present,
# they are text or nothing, at the top and in each action.
_IDS = ("action_id", "callback_id")


def _ids_are_text(data: dict[str, Any]) -> bool:
    found = data.get("actions")
    actions: list[Any] = found if isinstance(found, list) else []
    return all(
        item.get(key) is None or isinstance(item[key], str)
        for item in [data, *(a for a in actions if isinstance(a, dict))]
        for key in _IDS
    )


def _bolt_can_read(data: dict[str, Any]) -> bool:
    """True when Bolt can take the payload apart without crashing (a 500): its own context extraction (ids of
    user, team, channel, authorizations, response URLs) and the fields it reads for an unhandled request."""
    if any(key in data and not isinstance(data[key], dict) for key in _OBJECTS):
        return False
    if not _ids_are_text(data):
        return False
    event = data.get("event") or {}
    if any(event.get(key) is not None and not isinstance(event[key], dict) for key in _EVENT_OBJECTS):
        return False
    if any(key in data and not (isinstance(data[key], list) and all(isinstance(v, dict) for v in data[key]))
           for key in _LISTS_OF_OBJECTS):
        return False
    try:
        build_async_context(AsyncBoltContext(), data)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return False
    return True


def slack_body(text: str, content_type: str) -> dict[str, Any] | None:
    """The body as Bolt reads it (`slack_bolt.request.internals.parse_body`), when it has the shape Slack
    sends: a JSON object, a slash command form, or a form whose `payload` is a JSON object of a known type
    with the fields that type always has; None otherwise. Parsed once: Bolt is handed this dict."""
    if not text.strip():
        return None
    if content_type == "application/json" or text.lstrip().startswith("{"):
        try:
            data = payload.loads(text)
        except payload.MalformedPayload:
            return None
    else:
        fields = payload.form_fields(text)
        if "payload" not in fields:
            return fields if fields.get("command") or fields.get("ssl_check") else None
        try:
            data = payload.loads(fields["payload"])
        except payload.MalformedPayload:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not _bolt_can_read(data):
        return None
    return data if all(_has(data, *path) for path in _REQUIRED.get(data["type"], [])) else None


def well_formed(text: str, content_type: str) -> bool:
    """True when the body has the shape Slack sends (see `slack_body`)."""
    return slack_body(text, content_type) is not None


def slack_guard(signing_secret: str, path: str = EVENTS_PATH) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware: signature + timestamp (401), well-formed body (400), no stack traces (500)."""
    verifier = SignatureVerifier(signing_secret=signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path or request.method != "POST":
            return await handler(request)
        if (request.content_length or 0) > payload.MAX_BODY_BYTES:
            log.warning("slack request too large", extra={"event": "slack.too_large"})
            return _problem(413, "request_too_large")
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("slack request malformed", extra={"event": "slack.malformed"})
            return _problem(400, "malformed_request")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (is_number(timestamp) and signature and verifier.is_valid(body, timestamp, signature)):
            log.warning("slack request refused", extra={"event": "slack.bad_signature"})
            return _problem(401, "invalid_signature")
        data = slack_body(body, request.content_type)
        if data is None:
            log.warning("slack request malformed", extra={"event": "slack.malformed"})
            return _problem(400, "malformed_request")
        request[SLACK_BODY] = data
        kind = "command" if _command(data) else data.get("type")
        if isinstance(kind, str):
            request[health.KIND] = kind
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("slack request failed", extra={"event": "slack.request_failed"})
            return _problem(500, "internal_error")

    return guard


def _an_ack(answer: BoltResponse) -> bool:
    """A form submission's answer that came from its listener's `ack()`: an empty body, or a JSON object with a
    `response_action` (errors, update, push, clear). Anything else with a 200 is Bolt's own answer (its token check
    failed, `bot.channels.slack.app.build_app`), and an error status stays what it is."""
    if answer.status != 200 or not answer.body:
        return True
    try:
        body = json.loads(answer.body)
    except ValueError:
        return False
    return isinstance(body, dict) and "response_action" in body


def _command(data: dict[str, Any]) -> bool:
    """A slash command's body (a form with `command`, no `type`)."""
    return "command" in data and "type" not in data


def bolt_endpoint(app: AsyncApp, submissions: AsyncApp | None = None) -> Handler:
    """`POST /slack/events` into Bolt, as its aiohttp adapter does, but with the body the guard parsed already
    (`SLACK_BODY`): a form submission's payload is URL-decoded and read as JSON once, not once per reader.
    Bolt still checks the signature over the raw body itself (`raw_body`). A form submission and a slash command
    go to `submissions` when given: the same listeners, answered as soon as the listener returns
    (`bot.channels.slack.app.build_app`, `answer_first`; a command's listener acks and leaves its work to a task,
    `handlers.slack.common.after_ack`)."""

    async def events(request: web.Request) -> web.Response:
        text = await request.text()
        data = request.get(SLACK_BODY)
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        bolt = app
        if data is None:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        else:  # Bolt takes a parsed body only as a Socket Mode request: then it is made an HTTP one again
            bolt_request = AsyncBoltRequest(body=data, query=request.query_string, headers=headers,
                                            mode="socket_mode")
            bolt_request.mode, bolt_request.raw_body = "http", text  # so Bolt checks the signature as well
            if submissions is not None and (data.get("type") == "view_submission" or _command(data)):
                bolt = submissions
        answer = await bolt.async_dispatch(bolt_request)
        if data is not None and data.get("type") == "view_submission" and not _an_ack(answer):
            # Bolt answered in our listener's stead (its token check failed: a 200 carrying an apology), so nothing
            # was stored: Slack must show the person an error, not close the form as if it were filed.
            log.warning("slack submission not acked", extra={"event": "slack.submission_unanswered",
                                                              "status": answer.status})
            return _problem(503, "not_acknowledged")
        return await to_aiohttp_response(answer)

    return events


def build_web_app(app: AsyncApp, core: Core, signing_secret: str, path: str = EVENTS_PATH, *,
                  submissions: AsyncApp | None = None) -> web.Application:
    """The HTTP application: Bolt's `/slack/events` behind the guard, plus `GET /healthz`. `submissions`: the
    app form submissions go to (see `bolt_endpoint`)."""
    web_app = web.Application()
    web_app.router.add_post(path, bolt_endpoint(app, submissions))
    web_app.middlewares.insert(0, deadline_middleware)  # outermost: the body is read under its deadline
    web_app.middlewares.append(slack_guard(signing_secret, path))
    add_health(web_app, core)
    return web_app


def add_health(web_app: web.Application, core: Core) -> None:
    """`GET /healthz`: the database answers and its schema version."""

    async def healthz(request: web.Request) -> web.Response:
        try:
            version = await core.db.schema_version()
            db_ok = True
        except Exception:
            log.exception("health check: database failed", extra={"event": "health.db_failed"})
            version, db_ok = None, False
        body = {"status": "ok" if db_ok else "degraded", "db": db_ok, "schema_version": version}
        return web.json_response(body, status=200 if db_ok else 503)

    web_app.router.add_get("/healthz", healthz)
