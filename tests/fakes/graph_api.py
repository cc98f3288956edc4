"""An offline fake of Microsoft Graph and of the Entra ID sign-in host, served over TLS on 127.0.0.1.

azure-identity refuses a plain-http authority, so the fake serves HTTPS with a throw-away self-signed
certificate (`self_signed`), which tests trust through `SSL_CERT_FILE`. It answers:

- `GET /{tenant}/v2.0/.well-known/openid-configuration` and `POST /{tenant}/oauth2/v2.0/token` (client
  credentials), so that `ClientSecretCredential(authority=..., disable_instance_discovery=True)` signs in;
- `POST /v1.0/users/{sender}/events`, `PATCH .../events/{id}`, `POST .../events/{id}/cancel`,
  `POST /v1.0/users/{sender}/sendMail`, `POST /v1.0/users/{sender}/calendar/getSchedule`;
- Entra ID, read only: `GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user` (the users of
  `groups`, `page_size` a page, the next page by `@odata.nextLink` with `$skiptoken`; `$select` required)
  and `GET /v1.0/users/{id}/manager` (from `managers`; 404 when a user has none);
- Teams app installation for a user: `POST /v1.0/users/{id}/teamwork/installedApps` (`teamsApp@odata.bind` to an
  app of `catalog`; 409 when installed already, 403 for users in `install_forbidden`, 404 for unknown apps),
  `GET …/installedApps?$filter=teamsApp/id eq '…'` and `GET …/installedApps/{installationId}/chat`.

Every request body is checked against the shape Graph documents (required properties, types, known
properties only) and recorded as a `GraphCall`; a request Graph would refuse is answered 400 and fails the
test through `problems`. Failures can be scripted with `fail_next` (429 with `Retry-After`, 503, or a
timeout: the fake holds the request until the client gives up).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gfi-fake-graph")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fake-graph-cert.pem", directory / "fake-graph-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass(frozen=True)
class GraphCall:
    """One Graph request as received (path without /v1.0, JSON body, the bearer token)."""

    method: str
    path: str
    body: Any
    token: str | None
    status: int


@dataclass
class _Failure:
    remaining: int
    status: int  # 0 = hold the request (a timeout for the client)
    retry_after: int | None


_DATETIME_TZ = {"dateTime": str, "timeZone": str}
EVENT_PROPERTIES = {"subject", "body", "start", "end", "location", "attendees", "transactionId", "isOnlineMeeting",
                    "allowNewTimeProposals", "responseRequested", "showAs", "importance", "sensitivity",
                    "isReminderOn", "reminderMinutesBeforeStart", "categories"}


def _check_datetime_tz(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or set(value) - set(_DATETIME_TZ) or not all(
            isinstance(value.get(k), t) for k, t in _DATETIME_TZ.items()):
        problems.append(f"{where}: dateTimeTimeZone needs dateTime and timeZone strings")
        return
    try:
        dt.datetime.fromisoformat(value["dateTime"])
    except ValueError:
        problems.append(f"{where}: bad dateTime {value['dateTime']!r}")


def _check_recipient(value: Any, where: str, problems: list[str]) -> None:
    addr = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(addr, dict) or not isinstance(addr.get("address"), str) or "@" not in addr["address"]:
        problems.append(f"{where}: recipient needs emailAddress.address")


def check_event(body: Any, *, create: bool) -> list[str]:
    """What Graph would refuse in an event body (POST /events or PATCH /events/{id})."""
    problems: list[str] = []
    if not isinstance(body, dict):
        return ["event body is not an object"]
    unknown = set(body) - EVENT_PROPERTIES - {"@odata.type"}
    if unknown:
        problems.append(f"unknown event properties {sorted(unknown)}")
    if create:
        for key in ("subject", "start", "end"):
            if key not in body:
                problems.append(f"event without {key}")
    for key in ("start", "end"):
        if key in body:
            _check_datetime_tz(body[key], key, problems)
    if "body" in body:
        b = body["body"]
        if not isinstance(b, dict) or b.get("contentType", "").lower() not in ("text", "html") or not isinstance(
                b.get("content"), str):
            problems.append("body needs contentType text|html and content")
    if "sensitivity" in body and body["sensitivity"] not in ("normal", "personal", "private", "confidential"):
        problems.append("sensitivity must be normal|personal|private|confidential")
    if "location" in body and not isinstance((body["location"] or {}).get("displayName"), str):
        problems.append("location needs displayName")
    for i, a in enumerate(body.get("attendees") or []):
        _check_recipient(a, f"attendees[{i}]", problems)
        if a.get("type", "required").lower() not in ("required", "optional", "resource"):
            problems.append(f"attendees[{i}].type")
    return problems


def check_send_mail(body: Any) -> list[str]:
    """What Graph would refuse in a sendMail body."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return ["sendMail needs a message object"]
    problems: list[str] = []
    msg = body["message"]
    if set(body) - {"message", "saveToSentItems"}:
        problems.append(f"unknown sendMail properties {sorted(set(body) - {'message', 'saveToSentItems'})}")
    if not isinstance(msg.get("subject"), str):
        problems.append("message without subject")
    b = msg.get("body")
    if not isinstance(b, dict) or b.get("contentType", "").lower() not in ("text", "html"):
        problems.append("message body needs contentType text|html")
    if not msg.get("toRecipients"):
        problems.append("message without toRecipients")
    for i, r in enumerate(msg.get("toRecipients") or []):
        _check_recipient(r, f"toRecipients[{i}]", problems)
    for att in msg.get("attachments") or []:
        if att.get("@odata.type") != "#microsoft.graph.fileAttachment":
            problems.append("attachment type")
    return problems


def check_get_schedule(body: Any) -> list[str]:
    """What Graph would refuse in a calendar/getSchedule body."""
    if not isinstance(body, dict):
        return ["getSchedule body is not an object"]
    problems: list[str] = []
    schedules = body.get("schedules")
    if not isinstance(schedules, list) or not schedules or not all(isinstance(s, str) for s in schedules):
        problems.append("schedules must be a non-empty list of addresses")
    for key in ("startTime", "endTime"):
        _check_datetime_tz(body.get(key), key, problems)
    interval = body.get("availabilityViewInterval")
    if interval is not None and not (isinstance(interval, int) and 5 <= interval <= 1440):
        problems.append("availabilityViewInterval must be 5..1440")
    return problems


@dataclass
class FakeGraph:
    """The fake; use `async with FakeGraph(tmp_path) as graph:` and read `graph.calls` / `graph.events`."""

    directory: Path
    tenant: str = "tenant-1"
    calls: list[GraphCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> current event (with "cancelled")
    by_transaction: dict[str, str] = field(default_factory=dict)
    busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)  # address -> UTC spans
    tokens_issued: int = 0
    catalog: set[str] = field(default_factory=set)  # Teams app ids in the org catalog
    installed: dict[str, dict[str, str]] = field(default_factory=dict)  # user -> catalog app id -> installation id
    install_forbidden: set[str] = field(default_factory=set)  # users for whom installing is not permitted (403)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # Entra group id -> its users
    managers: dict[str, str] = field(default_factory=dict)  # Entra user id -> the manager's user id
    page_size: int = 100
    client_secrets: dict[str, str] = field(default_factory=dict)  # app id -> the only secret accepted (if listed)
    scopes: list[str] = field(default_factory=list)  # the scope of each token asked for

    def __post_init__(self) -> None:
        self.cert, self.key = self_signed(self.directory)
        self._failures: dict[str, _Failure] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.release = asyncio.Event()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1.0"

    def fail_next(self, kind: str, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests of `kind` (events, cancel, sendMail, getSchedule, patch, members,
        manager) with
        `status` (and `Retry-After`); status 0 holds the request until `release` is set (a timeout)."""
        self._failures[kind] = _Failure(times, status, retry_after)

    def of(self, kind: str) -> list[GraphCall]:
        """The successful calls of one kind, in order."""
        return [c for c in self.calls if _kind(c.method, c.path) == kind and c.status < 300]

    # --- server ---------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeGraph:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/v1.0/{tail:.*}", self._graph)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"{self.url}/{tenant}"
        return web.json_response({
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return web.json_response({"error": "invalid_request"}, status=400)
        if "client_secret" not in form and "client_assertion" not in form:
            return web.json_response({"error": "invalid_client"}, status=401)
        wanted = self.client_secrets.get(str(form["client_id"]))
        if wanted is not None and form.get("client_secret") != wanted:
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid "
                                      "client secret provided."}, status=401)
        self.scopes.append(str(form.get("scope", "")))
        self.tokens_issued += 1
        return web.json_response({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
                                  "access_token": f"fake-token-{self.tokens_issued}"})

    async def _graph(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        kind = _kind(request.method, path)
        if kind in ("cancel", "sendMail", "getSchedule") and isinstance(body, dict):
            # msgraph-sdk sends action parameters in PascalCase ("Comment"); Graph matches action parameter
            # names case-insensitively, so the fake normalises them to the documented camelCase.
            body = {k[:1].lower() + k[1:]: v for k, v in body.items()}
        failure = self._failures.get(kind)
        if failure is not None and failure.remaining > 0:
            failure.remaining -= 1
            if failure.status == 0:  # Graph does the work, but the answer comes too late for the client
                status, _ = self._answer(request.method, path, kind, body, dict(request.query))
                self.calls.append(GraphCall(request.method, path, body, token, status))
                await self.release.wait()
                return web.Response(status=504)
            self.calls.append(GraphCall(request.method, path, body, token, failure.status))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            code = "TooManyRequests" if failure.status == 429 else "ServiceUnavailable"
            return web.json_response({"error": {"code": code, "message": "scripted"}}, status=failure.status,
                                     headers=headers)
        if token is None:
            self.calls.append(GraphCall(request.method, path, body, token, 401))
            return _error(401, "InvalidAuthenticationToken")
        status, answer = self._answer(request.method, path, kind, body, dict(request.query))
        self.calls.append(GraphCall(request.method, path, body, token, status))
        if answer is None:
            return web.Response(status=status)
        return web.json_response(answer, status=status)

    def _answer(self, method: str, path: str, kind: str, body: Any,
                query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        parts = path.strip("/").split("/")
        if kind == "events":
            problems = check_event(body, create=True)
            if problems:
                return self._refuse(problems)
            existing = self.by_transaction.get(body.get("transactionId") or "")
            if existing:  # Graph: the same transactionId does not create a second event
                return 201, self.events[existing]
            event_id = f"AAMk-event-{next(self._ids)}"
            self.events[event_id] = {**body, "id": event_id, "organizer": parts[1], "cancelled": False}
            if body.get("transactionId"):
                self.by_transaction[body["transactionId"]] = event_id
            return 201, self.events[event_id]
        if kind == "patch":
            event = self.events.get(parts[3])
            if event is None or event["cancelled"]:
                return _error_body(404, "ErrorItemNotFound")
            problems = check_event(body, create=False)
            if problems:
                return self._refuse(problems)
            event.update(body)
            return 200, event
        if kind == "cancel":
            event = self.events.get(parts[3])
            if event is None or event["cancelled"]:
                return _error_body(404, "ErrorItemNotFound")
            if not isinstance(body, dict) or set(body) - {"comment"} or not isinstance(body.get("comment", ""), str):
                return self._refuse(["cancel takes only a comment string"])
            event["cancelled"] = True
            event["cancel_comment"] = body.get("comment")
            return 202, None
        if kind == "sendMail":
            problems = check_send_mail(body)
            return self._refuse(problems) if problems else (202, None)
        if kind == "getSchedule":
            problems = check_get_schedule(body)
            if problems:
                return self._refuse(problems)
            return 200, {"value": [self._schedule(a, body) for a in body["schedules"]]}
        if kind in ("installApp", "installedApps", "installChat"):
            return self._teams_app(kind, parts, body, query)
        if kind == "members":
            return self._members(parts[1], query)
        if kind == "manager":
            users = {u["id"]: u for members in self.groups.values() for u in members}
            boss = users.get(self.managers.get(parts[1], ""))
            if boss is None:
                return _error_body(404, "Request_ResourceNotFound")
            return 200, {"@odata.type": "#microsoft.graph.user", "id": boss["id"], "mail": boss.get("mail"),
                         "userPrincipalName": boss.get("userPrincipalName")}
        return _error_body(404, "UnknownPath")

    def _members(self, group: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if group not in self.groups:
            return _error_body(404, "Request_ResourceNotFound")
        if "$select" not in query:
            return self._refuse(["transitiveMembers without $select (Graph would return every property)"])
        start = int(query.get("$skiptoken", "0"))
        users = self.groups[group]
        page: dict[str, Any] = {"value": [{"@odata.type": "#microsoft.graph.user", **u}
                                          for u in users[start:start + self.page_size]]}
        if start + self.page_size < len(users):
            page["@odata.nextLink"] = (f"{self.api_url}/groups/{group}/transitiveMembers/microsoft.graph.user"
                                       f"?$select={query['$select']}&$skiptoken={start + self.page_size}")
        return 200, page

    def _teams_app(self, kind: str, parts: list[str], body: Any, query: dict[str, str]) -> tuple[int, Any]:
        user = parts[1].lower()
        apps = self.installed.setdefault(user, {})
        if kind == "installApp":
            bind = body.get("teamsApp@odata.bind") if isinstance(body, dict) else None
            if not isinstance(body, dict) or set(body) - {"teamsApp@odata.bind", "@odata.type"} or not isinstance(
                    bind, str) or not bind.startswith(self.api_url + "/appCatalogs/teamsApps/"):
                return self._refuse(["installedApps needs teamsApp@odata.bind to …/appCatalogs/teamsApps/{id}"])
            app_id = bind.rsplit("/", 1)[1]
            if user in self.install_forbidden:
                return _error_body(403, "Forbidden")
            if app_id not in self.catalog:
                return _error_body(404, "NotFound")
            if app_id in apps:
                return _error_body(409, "Conflict")
            apps[app_id] = f"inst-{user}-{next(self._ids)}"
            return 201, None
        if kind == "installedApps":
            wanted = query.get("$filter", "")
            if not wanted.startswith("teamsApp/id eq '"):
                return self._refuse([f"installedApps list without a teamsApp/id filter: {wanted!r}"])
            app_id = wanted.removeprefix("teamsApp/id eq '").removesuffix("'")
            value = [{"id": inst, "teamsApp": {"id": a}} for a, inst in apps.items() if a == app_id]
            return 200, {"value": value}
        installation = parts[4]
        if installation not in apps.values():
            return _error_body(404, "NotFound")
        return 200, {"id": f"19:{installation}@unq.gbl.spaces", "chatType": "oneOnOne"}

    def _refuse(self, problems: list[str]) -> tuple[int, dict[str, Any]]:
        self.problems.extend(problems)
        return _error_body(400, "ErrorInvalidRequest")

    def _schedule(self, address: str, body: dict[str, Any]) -> dict[str, Any]:
        items = [
            {"status": "busy", "start": {"dateTime": s.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
             "end": {"dateTime": e.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}}
            for s, e in self.busy.get(address.lower(), [])
        ]
        return {"scheduleId": address, "availabilityView": "", "scheduleItems": items, "workingHours": None}


def _kind(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "users" and parts[2] == "events" and method == "POST":
        return "events"
    if len(parts) == 4 and parts[2] == "events" and method == "PATCH":
        return "patch"
    if len(parts) == 5 and parts[2] == "events" and parts[4] == "cancel" and method == "POST":
        return "cancel"
    if len(parts) == 3 and parts[2] == "sendMail" and method == "POST":
        return "sendMail"
    if len(parts) == 4 and parts[2:] == ["calendar", "getSchedule"] and method == "POST":
        return "getSchedule"
    if len(parts) == 4 and parts[2:] == ["teamwork", "installedApps"]:
        return {"POST": "installApp", "GET": "installedApps"}.get(method, "other")
    if len(parts) == 6 and parts[2:4] == ["teamwork", "installedApps"] and parts[5] == "chat" and method == "GET":
        return "installChat"
    if len(parts) == 4 and parts[0] == "groups" and parts[2:] == ["transitiveMembers", "microsoft.graph.user"]:
        return "members"
    if len(parts) == 3 and parts[0] == "users" and parts[2] == "manager" and method == "GET":
        return "manager"
    return "other"


def _error_body(status: int, code: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": code}}


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status)
