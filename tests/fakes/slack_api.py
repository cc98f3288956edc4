"""An offline fake of the Slack Web API for end-to-end tests.

`FakeSlackAPI` is a real aiohttp server on 127.0.0.1 (ephemeral port). Point an `AsyncWebClient`
at it with ``AsyncWebClient(token=..., base_url=fake.base_url)``; every call is recorded as a
`SlackCall` and answered the way Slack would answer it. Failures (429 with ``Retry-After``, 5xx,
``ok: false`` errors) can be scripted per method with `FakeSlackAPI.fail_next`; a method can be held
(answered only when released) with `FakeSlackAPI.hold`, to play a slow Slack without sleeping.
A command's or a click's ``response_url`` can point at `FakeSlackAPI.response_url()`; what the bot posts
there is recorded as calls of the method ``response_url``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

# Fields that slack-sdk sends as JSON strings in form-encoded bodies; parsed back into objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")

# Slack's documented limits, enforced so that tests catch payloads Slack would refuse.
_MAX_VIEW_TEXT = 24
_MAX_PRIVATE_METADATA = 3000
_MAX_VIEW_BLOCKS = 100
_MAX_MESSAGE_BLOCKS = 50
# Undocumented but real: Slack answers msg_blocks_too_long at about 12,000 characters of block text, and
# msg_too_long to a top-level text of some thousands of characters (the reference still says 40,000).
_MAX_MESSAGE_BLOCK_CHARS = 12_000
_MAX_MESSAGE_TEXT = 4_000


@dataclass(frozen=True, slots=True)
class SlackCall:
    """One Web API call received by the fake (``at`` is `time.monotonic()`)."""

    method: str
    params: dict[str, Any]
    at: float
    token: str | None = None
    http_method: str = "POST"
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True if the fake answered ``ok: true`` with HTTP 200."""
        return self.status == 200 and self.error is None


@dataclass(slots=True)
class _Failure:
    """A scripted failure for the next calls of one method."""

    remaining: int
    error: str
    status: int
    retry_after: int | None


@dataclass(slots=True)
class _User:
    """A user known to the fake directory."""

    user_id: str
    email: str
    name: str
    tz: str = "Europe/Stockholm"
    is_bot: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class LocalServer:
    """Serves an aiohttp application on 127.0.0.1 with an ephemeral port."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self._app = app
        self._host = host
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self) -> None:
        """Bind to port 0 and read back the port the OS chose."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self._app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; safe to call twice."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    @property
    def port(self) -> int:
        """The bound port (only while started)."""
        if self._port is None:
            raise RuntimeError("server is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` without a trailing slash."""
        return f"http://{self._host}:{self.port}"


@asynccontextmanager
async def serve_web_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` (e.g. Bolt's ``app.web_app()``) and yield its base URL."""
    server = LocalServer(app, host)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


class FakeSlackAPI:
    """A recording, scriptable fake of ``https://slack.com/api/``."""

    def __init__(
        self,
        *,
        team_id: str = "T0GFI",
        bot_user_id: str = "U0GFIBOT",
        bot_id: str = "B0GFIBOT",
        app_id: str = "A0GFI",
        token: str | None = None,
    ) -> None:
        """Create the fake; if ``token`` is given, other tokens get ``invalid_auth``."""
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.expected_token = token
        self._calls: list[SlackCall] = []
        # Every message or view refused for its layout (not a scripted failure): (method, Slack's messages).
        # The e2e harness (tests/fakes/slack_bot.py) fails a test that produced one.
        self.layout_refusals: list[tuple[str, str]] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._users: dict[str, _User] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._external_ids: dict[str, str] = {}
        self._home_views: dict[str, dict[str, Any]] = {}
        # Messages posted and not deleted: (channel, ts) → text.
        self.messages: dict[tuple[str, str], str] = {}
        # File uploads (files_upload_v2): file id → {"filename", "length", "data", "title", "channel", "comment"}.
        self.files: dict[str, dict[str, Any]] = {}
        self._counter = itertools.count(1)
        self._changed = asyncio.Event()
        self._holds: dict[str, asyncio.Event] = {}
        self._abandoned: set[int] = set()
        self._waiting: dict[str, int] = {}
        # Socket Mode: apps.connections.open hands out ws://…/socket; envelopes go down, acks come back.
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, dict[str, Any]] = {}
        self._socket_connected = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._server = LocalServer(app)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on 127.0.0.1 with an ephemeral port."""
        await self._server.start()

    async def stop(self) -> None:
        """Stop serving (closing Socket Mode connections first)."""
        for ws in list(self._sockets):
            await ws.close()
        await self._server.stop()

    async def __aenter__(self) -> FakeSlackAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._server.port

    @property
    def base_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)``; ends in ``/api/``."""
        return f"{self._server.url}/api/"

    # ------------------------------------------------------------------ scripting

    def add_user(
        self,
        user_id: str,
        email: str,
        name: str,
        *,
        tz: str = "Europe/Stockholm",
        is_bot: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a user for ``users.lookupByEmail`` / ``users.info``; returns the user object."""
        user = _User(user_id=user_id, email=email, name=name, tz=tz, is_bot=is_bot, extra=dict(extra))
        self._users[user_id] = user
        return self._user_object(user)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        Defaults: no arguments means 429 ``ratelimited`` with ``Retry-After: 1``; ``status=5xx``
        means ``internal_error``; an ``error`` other than ``ratelimited`` means HTTP 200 with
        ``ok: false``. ``Retry-After`` is sent whenever ``retry_after`` is set (defaults to 1 on 429).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is None:
            status = 429 if error in (None, "ratelimited") else 200
        if error is None:
            error = "ratelimited" if status == 429 else "internal_error" if status >= 500 else "fatal_error"
        if retry_after is None and status == 429:
            retry_after = 1
        self._failures.setdefault(method, []).append(_Failure(times, error, status, retry_after))

    def hold(self, method: str) -> None:
        """Hold every call of ``method`` unanswered until `release` (a slow Slack, without sleeping)."""
        self._holds[method] = asyncio.Event()

    def release(self, method: str) -> None:
        """Answer the held calls of ``method`` (and the later ones at once)."""
        gate = self._holds.pop(method, None)
        if gate is not None:
            gate.set()

    def abandon(self, method: str) -> None:
        """Stop holding ``method`` and drop the calls held so far unrecorded (their caller is gone, e.g. a
        killed process: nothing it asked for was delivered); later calls are answered at once."""
        gate = self._holds.pop(method, None)
        if gate is not None:
            self._abandoned.add(id(gate))
            gate.set()

    def waiting(self, method: str) -> int:
        """How many calls of ``method`` are held right now."""
        return self._waiting.get(method, 0)

    async def until_held(self, method: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - harness bound
        """Wait until a call of ``method`` is held (it has reached the fake and waits for `release`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.waiting(method) == 0:
            self._changed.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {method} call held after {timeout}s; seen: {self._summary()}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` served by the fake (posts to it are recorded as method ``response_url``)."""
        return f"{self._server.url}/response/{name}"

    def clear(self) -> None:
        """Forget recorded calls (users, views and scripted failures stay)."""
        self._calls.clear()

    def clear_failures(self) -> None:
        """Drop all scripted failures that have not fired yet."""
        self._failures.clear()

    # ------------------------------------------------------------------ queries

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """Recorded calls in arrival order, optionally only those of ``method``."""
        return [c for c in self._calls if method is None or c.method == method]

    def last(self, method: str | None = None) -> SlackCall:
        """The most recent call (of ``method``); AssertionError if there is none."""
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no {method or 'Slack'} call recorded; seen: {self._summary()}")
        return found[-1]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[SlackCall], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the harness API the e2e tests use
    ) -> list[SlackCall]:
        """Wait until at least ``count`` matching calls arrived; return all matching calls.

        Wakes up on every recorded call (no fixed sleeps); raises AssertionError on timeout.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._changed.clear()
            matching = [c for c in self.calls(method) if predicate is None or predicate(c)]
            if len(matching) >= count:
                return matching
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} x {method} "
                    f"(matched {len(matching)}); seen: {self._summary()}"
                )
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The latest version of a view opened/updated/pushed/published through the fake."""
        return self._views.get(view_id)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``."""
        return self._home_views.get(user_id)

    @staticmethod
    def dm_channel_id(user_id: str) -> str:
        """The DM channel id the fake hands out for ``user_id``."""
        return f"D{user_id}"

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        """Record one call and answer it."""
        method = request.match_info["method"]
        params = await _read_params(request)
        gate = self._holds.get(method)
        if gate is not None:
            self._waiting[method] = self._waiting.get(method, 0) + 1
            self._changed.set()
            try:
                await gate.wait()
            finally:
                self._waiting[method] -= 1
            if id(gate) in self._abandoned:
                return web.json_response({"ok": False, "error": "abandoned"}, status=503)
        token = _bearer_token(request.headers.get("Authorization"))
        if token is None and isinstance(params.get("token"), str):
            token = params.pop("token")

        status, body, headers = self._respond(method, params, token)
        error = None if body.get("ok") and status == 200 else str(body.get("error", "http_error"))
        pointers = str(body.get("response_metadata", ""))
        if error in _LAYOUT_ERRORS or (error == "invalid_arguments" and ("json-pointer:/view" in pointers
                                                                        or "json-pointer:/blocks" in pointers)):
            self.layout_refusals.append((method, str(body.get("response_metadata") or error)))
        self._calls.append(
            SlackCall(
                method=method,
                params=params,
                at=time.monotonic(),
                token=token,
                http_method=request.method,
                status=status,
                error=error,
            )
        )
        self._changed.set()
        return web.json_response(body, status=status, headers=headers)

    async def _response_url(self, request: web.Request) -> web.Response:
        """A post to a command's or a click's response_url."""
        params = await _read_params(request)
        if (problem := _message_problem(params)) is not None:
            self.layout_refusals.append(("response_url", str(problem.get("response_metadata") or problem["error"])))
            return web.json_response(problem)
        self._calls.append(SlackCall(method="response_url", params=params, at=time.monotonic(), token=None,
                                     http_method=request.method, status=200, error=None))
        self._changed.set()
        return web.Response(text="ok")

    def _respond(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Pick the answer: scripted failure, auth failure, or the method's normal reply."""
        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, {"ok": False, "error": failure.error}, headers
        app_level = method == "apps.connections.open" and (token or "").startswith("xapp-")
        if self.expected_token is not None and token != self.expected_token and not app_level:
            return 200, {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}, {}
        handler = self._handlers().get(method)
        body = handler(params) if handler else {"ok": True}
        return 200, body, {}

    def _handlers(self) -> Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """Method name → answer builder."""
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "apps.connections.open": self._apps_connections_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ------------------------------------------------------------------ files (files_upload_v2)

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step 1 of files_upload_v2: a file id and an upload URL (here, on this fake)."""
        filename, length = params.get("filename"), params.get("length")
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        try:
            size = int(str(length))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._counter):08d}"
        self.files[file_id] = {"filename": str(filename), "length": size, "data": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2: the file's bytes posted to the upload URL (Slack answers 200 with a short text)."""
        entry = self.files.get(request.match_info["file_id"])
        if entry is None:
            return web.Response(status=404, text="not found")
        entry["data"] = await request.read()
        self._changed.set()
        return web.Response(status=200, text="OK - " + str(len(entry["data"])))

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step 3: share the uploaded files in a channel, with an optional comment."""
        raw = params.get("files")
        items = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            return {"ok": False, "error": "invalid_arguments"}
        out = []
        for item in items:
            entry = self.files.get(str(item.get("id")))
            if entry is None or entry["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            if len(entry["data"]) != entry["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            entry.update(title=item.get("title"), channel=params.get("channel_id"),
                         comment=params.get("initial_comment"))
            out.append({"id": item["id"], "name": entry["filename"], "title": item.get("title")})
        return {"ok": True, "files": out}

    # ------------------------------------------------------------------ Socket Mode

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": self.app_id}})
        self._socket_connected.set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self._socket_acks[str(data["envelope_id"])] = data
                    self._changed.set()
        finally:
            self._sockets.remove(ws)
        return ws

    async def socket_send(self, envelope_type: str, payload: dict[str, Any], timeout: float = 10.0) -> str:  # noqa: ASYNC109 - a test helper's explicit bound
        """Send an envelope to the connected Socket Mode client; returns its envelope id."""
        await asyncio.wait_for(self._socket_connected.wait(), timeout)
        envelope_id = f"env-{next(self._counter)}"
        await self._sockets[-1].send_json({
            "envelope_id": envelope_id, "type": envelope_type, "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        })
        return envelope_id

    async def socket_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:  # noqa: ASYNC109 - a test helper's explicit bound
        """Wait for the client's acknowledgement of an envelope."""
        async def acked() -> dict[str, Any]:
            while envelope_id not in self._socket_acks:
                self._changed.clear()
                await self._changed.wait()
            return self._socket_acks[envelope_id]

        return await asyncio.wait_for(acked(), timeout)

    # ------------------------------------------------------------------ method answers

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://gfi-test.slack.com/",
            "team": "GFI test",
            "user": "gfi-boten",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        problem = _message_problem(params)
        if problem:
            return problem
        channel = self._resolve_channel(str(channel))
        ts = self._next_ts()
        self.messages[(channel, ts)] = str(params.get("text") or "")
        return {"ok": True, "channel": channel, "ts": ts, "message": self._message(params, ts)}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        del self.messages[key]
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        problem = _message_problem(params)
        if problem:
            return problem
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, str(ts)),
        }

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            return _invalid("trigger_id is required", "/trigger_id")
        return self._store_view(params, view_id=None)

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and external_id:
            view_id = self._external_ids.get(str(external_id))
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        if not view_id:
            return _invalid("view_id or external_id is required", "/view_id")
        return self._store_view(params, view_id=str(view_id))

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not user_id:
            return _invalid("user_id is required", "/user_id")
        previous = self._home_views.get(str(user_id))
        answer = self._store_view(params, view_id=previous["id"] if previous else None)
        if answer.get("ok"):
            self._home_views[str(user_id)] = answer["view"]
        return answer

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).strip().lower()
        for user in self._users.values():
            if user.email.lower() == email:
                return {"ok": True, "user": self._user_object(user)}
        return {"ok": False, "error": "users_not_found"}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_object(user)}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            channel_id = self.dm_channel_id(users[0])
        else:
            channel_id = "G" + "".join(sorted(users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._counter):06d}"

    def _resolve_channel(self, channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as in Slack."""
        if channel[:1] in ("U", "W"):
            return self.dm_channel_id(channel)
        return channel

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                message[key] = params[key]
        return message

    def _store_view(self, params: dict[str, Any], view_id: str | None) -> dict[str, Any]:
        """Validate the ``view`` argument and answer with a full view object."""
        view = params.get("view")
        if not isinstance(view, dict):
            return _invalid("view is required and must be a JSON object", "/view")
        problem = view_problem(view)
        if problem:
            return _invalid(*problem)
        if view_id is None:
            view_id = f"V{next(self._counter):08d}"
        previous = self._views.get(view_id)
        n = next(self._counter)
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{n:08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        self._views[view_id] = stored
        if stored["external_id"]:
            self._external_ids[str(stored["external_id"])] = view_id
        return {"ok": True, "view": stored}

    def _user_object(self, user: _User) -> dict[str, Any]:
        return {
            "id": user.user_id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.name,
            "deleted": False,
            "is_bot": user.is_bot,
            "tz": user.tz,
            "profile": {"email": user.email, "real_name": user.name, "display_name": user.name},
            **user.extra,
        }

    def _summary(self) -> str:
        parts = [f"{c.method}({c.status}{'' if c.ok else ' ' + str(c.error)})" for c in self._calls]
        return ", ".join(parts) or "none"


_LAYOUT_ERRORS = ("invalid_blocks", "msg_blocks_too_long", "msg_too_long")


def _invalid(message: str, pointer: str) -> dict[str, Any]:
    """Slack's answer to a malformed argument."""
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {message} [json-pointer:{pointer}]"]},
    }


def _text_chars(node: Any) -> int:
    if isinstance(node, dict):
        own = len(node["text"]) if node.get("type") in ("plain_text", "mrkdwn") and isinstance(
            node.get("text"), str) else 0
        return own + sum(_text_chars(v) for v in node.values() if isinstance(v, dict | list))
    if isinstance(node, list):
        return sum(_text_chars(v) for v in node)
    return 0


def _ids_problem(blocks: list[Any], pointer: str) -> tuple[str, str] | None:
    """Slack's own check that slack_sdk's models do not make: a `block_id` repeated in a message or view, an
    `action_id` repeated within one block."""
    seen_blocks: set[Any] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if "block_id" in block:
            if block["block_id"] in seen_blocks:
                return "block_id must be unique", f"{pointer}/{i}/block_id"
            seen_blocks.add(block["block_id"])
        children: list[Any] = []
        for key in ("elements", "element", "accessory"):
            value = block.get(key)
            children.extend(value if isinstance(value, list) else [value])
        actions = [c["action_id"] for c in children if isinstance(c, dict) and "action_id" in c]
        for j, action_id in enumerate(actions):
            if action_id in actions[:j]:
                return "action_id must be unique within a block", f"{pointer}/{i}/elements/{j}/action_id"
    return None


def _blocks_problem(blocks: Any, pointer: str) -> tuple[str, str] | None:
    """The first block slack_sdk's models reject (section text over 3,000, over 100 options, …) or a repeated
    id (which Slack refuses as `invalid_blocks` and the models do not check), or None."""
    if isinstance(blocks, list) and (ids := _ids_problem(blocks, pointer)):
        return ids
    for i, block in enumerate(blocks if isinstance(blocks, list) else []):
        try:
            parsed = Block.parse(block)
            if parsed is not None:
                parsed.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            return str(exc), f"{pointer}/{i}"
    return None


def _message_problem(params: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer to a message it refuses, or None."""
    blocks = params.get("blocks") or []
    if len(blocks) > _MAX_MESSAGE_BLOCKS:
        return _invalid("too many blocks in a message", "/blocks")
    problem = _blocks_problem(blocks, "/blocks")
    if problem:
        return {**_invalid(*problem), "error": "invalid_blocks"}
    if _text_chars(blocks) > _MAX_MESSAGE_BLOCK_CHARS:
        return {"ok": False, "error": "msg_blocks_too_long"}
    if len(str(params.get("text") or "")) > _MAX_MESSAGE_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    return None


def view_problem(view: dict[str, Any]) -> tuple[str, str] | None:
    """First limit the view breaks (message, json pointer), or None."""
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        return "type must be modal or home", "/view/type"
    if view_type == "modal" and not isinstance(view.get("title"), dict):
        return "title is required for a modal", "/view/title"
    for key in ("title", "submit", "close"):
        text = view.get(key)
        if isinstance(text, dict) and len(str(text.get("text", ""))) > _MAX_VIEW_TEXT:
            return f"must be less than {_MAX_VIEW_TEXT + 1} characters", f"/view/{key}/text"
    if len(str(view.get("private_metadata", ""))) > _MAX_PRIVATE_METADATA:
        return f"must be less than {_MAX_PRIVATE_METADATA + 1} characters", "/view/private_metadata"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return "blocks is required", "/view/blocks"
    if len(blocks) > _MAX_VIEW_BLOCKS:
        return f"no more than {_MAX_VIEW_BLOCKS} items allowed", "/view/blocks"
    return _blocks_problem(blocks, "/view/blocks")


def _bearer_token(header: str | None) -> str | None:
    """The token from an ``Authorization: Bearer ...`` header."""
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (form, multipart or JSON) into one dict."""
    params: dict[str, Any] = {k: request.query.getone(k) for k in request.query}
    if request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.text()
            if raw.strip():
                body = json.loads(raw)
                if isinstance(body, dict):
                    params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key in form:
                value = form.getone(key)
                params[key] = value if isinstance(value, str) else value.file.read()
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                pass
    return params
