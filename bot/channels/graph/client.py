"""Microsoft Graph, app-only: the few calls the bot makes, with errors mapped to `DeliveryError`.

Built on `msgraph-sdk` with an async `azure-identity` credential (client secret or certificate). The SDK's
retry middleware is left out: the outbox owns retries (it honours `Retry-After` and ends with a status), and
the SDK's own retries would hold the dispatcher for minutes. `GRAPH_API_URL` and `GRAPH_AUTHORITY_HOST`
point it elsewhere (national clouds, tests); instance discovery is off when the sign-in host is overridden.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.location import Location
from msgraph.generated.models.message import Message as GraphMessage
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.sensitivity import Sensitivity
from msgraph.generated.models.user_scope_teams_app_installation import UserScopeTeamsAppInstallation
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
    GetSchedulePostRequestBody,
)
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody
from msgraph.generated.users.item.teamwork.installed_apps.installed_apps_request_builder import (
    InstalledAppsRequestBuilder,
)
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from bot.config import Settings
from bot.dispatcher import DeliveryError
from bot.graph_auth import build_credential

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://graph.microsoft.com/v1.0"
# Graph errors that trying again will not mend: the row is marked failed (coordinators are told).
PERMANENT_STATUS = frozenset({400, 401, 403, 404, 405, 410, 413, 422})


@dataclass(frozen=True)
class EventSpec:
    """An Outlook event as the bot describes it (no free text about the individual)."""

    subject: str
    start: datetime  # aware
    end: datetime
    timezone: str  # IANA name, e.g. Europe/Stockholm
    location: str
    body_html: str
    attendees: tuple[str, ...]
    transaction_id: str | None = None


@dataclass(frozen=True)
class Busy:
    """One busy span of one mailbox, in UTC."""

    address: str
    start: datetime
    end: datetime


def _no_retry_middleware() -> list[Any]:
    return [m for m in KiotaClientFactory.get_default_middleware(None) if not isinstance(m, RetryHandler)]


def build_service_client(credential: AsyncTokenCredential, api_url: str, timeout: float) -> GraphServiceClient:
    """A GraphServiceClient on `api_url` whose httpx client has no retry middleware and a bounded timeout."""
    api_url = api_url.rstrip("/")
    parts = urlsplit(api_url)
    scope = f"{parts.scheme}://{parts.netloc}/.default"
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[scope], allowed_hosts=[parts.hostname or ""])
    http = httpx.AsyncClient(base_url=api_url, timeout=httpx.Timeout(timeout))
    http = GraphClientFactory.create_with_custom_middleware(_no_retry_middleware(), client=http)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = api_url
    return GraphServiceClient(request_adapter=adapter)


def delivery_error(exc: BaseException, what: str) -> DeliveryError:
    """Map what the SDK raised to a DeliveryError: 429/503 with Retry-After, other 5xx and timeouts transient,
    refusals (4xx) permanent. The reason is a code, never a message body."""
    if isinstance(exc, APIError):
        status = int(exc.response_status_code or 0)
        headers = {k.lower(): v for k, v in (exc.response_headers or {}).items()}
        retry_after: float | None = None
        raw = headers.get("retry-after")
        if raw is not None:
            try:
                retry_after = max(0.0, float(raw))
            except ValueError:
                retry_after = None
        if status == 429:
            return DeliveryError(f"graph:{what}:throttled", retry_after=retry_after if retry_after is not None else 30)
        if status in PERMANENT_STATUS:
            return DeliveryError(f"graph:{what}:http_{status}", permanent=True)
        return DeliveryError(f"graph:{what}:http_{status or 'error'}", retry_after=retry_after)
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryError(f"graph:{what}:timeout")
    if isinstance(exc, ClientAuthenticationError):
        return DeliveryError(f"graph:{what}:sign_in_failed")
    if isinstance(exc, (httpx.HTTPError, AzureError, OSError)):
        return DeliveryError(f"graph:{what}:connection:{type(exc).__name__}")
    return DeliveryError(f"graph:{what}:unexpected:{type(exc).__name__}")


def _when(at: datetime, tz: str) -> DateTimeTimeZone:
    """An aware datetime as Graph's dateTimeTimeZone, as wall-clock time in `tz`."""
    local = at.astimezone(ZoneInfo(tz)) if at.tzinfo is not None else at
    return DateTimeTimeZone(date_time=local.replace(tzinfo=None).isoformat(timespec="seconds"), time_zone=tz)


def _event(spec: EventSpec, *, with_transaction: bool) -> Event:
    event = Event(
        subject=spec.subject,
        body=ItemBody(content_type=BodyType.Html, content=spec.body_html),
        start=_when(spec.start, spec.timezone),
        end=_when(spec.end, spec.timezone),
        location=Location(display_name=spec.location),
        attendees=[Attendee(email_address=EmailAddress(address=a), type=AttendeeType.Required)
                   for a in spec.attendees],
        allow_new_time_proposals=False,
        # shared calendars show busy only: not the subject, the place or the body (issue #23 item 7)
        sensitivity=Sensitivity.Private,
    )
    if with_transaction and spec.transaction_id:
        event.transaction_id = spec.transaction_id
    return event


class GraphClient:
    """The Graph calls of the bot, all on behalf of the sender mailbox (`GRAPH_SENDER`)."""

    def __init__(self, client: GraphServiceClient, sender: str, credential: AsyncTokenCredential | None = None,
                 api_url: str = DEFAULT_API_URL):
        self.client = client
        self.sender = sender
        self.credential = credential
        self.api_url = api_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphClient:
        credential = build_credential(settings)
        client = build_service_client(credential, settings.graph_api_url or DEFAULT_API_URL, settings.graph_timeout)
        assert settings.graph_sender
        return cls(client, settings.graph_sender, credential, settings.graph_api_url or DEFAULT_API_URL)

    async def close(self) -> None:
        if self.credential is not None:
            await self.credential.close()
        http = getattr(self.client.request_adapter, "_http_client", None)
        if http is not None:
            await http.aclose()

    def _mailbox(self) -> UserItemRequestBuilder:
        return self.client.users.by_user_id(self.sender)

    async def create_event(self, spec: EventSpec) -> str:
        """POST /users/{sender}/events (Exchange sends the invitations); returns the event id. With a
        `transaction_id`, a retried create returns the event made the first time instead of a second one."""
        try:
            created = await self._mailbox().events.post(_event(spec, with_transaction=True))
        except Exception as exc:
            raise delivery_error(exc, "event_create") from None
        if created is None or not created.id:
            raise DeliveryError("graph:event_create:no_id")
        return created.id

    async def update_event(self, event_id: str, spec: EventSpec) -> None:
        """PATCH /users/{sender}/events/{id}: new time, place, units or attendees (Exchange sends updates)."""
        try:
            await self._mailbox().events.by_event_id(event_id).patch(_event(spec, with_transaction=False))
        except Exception as exc:
            raise delivery_error(exc, "event_update") from None

    async def cancel_event(self, event_id: str, comment: str) -> bool:
        """POST /users/{sender}/events/{id}/cancel with a comment (Exchange tells the attendees). False when
        the event no longer exists (already cancelled or deleted): nothing left to do."""
        try:
            await self._mailbox().events.by_event_id(event_id).cancel.post(CancelPostRequestBody(comment=comment))
        except APIError as exc:
            if exc.response_status_code == 404:
                return False
            raise delivery_error(exc, "event_cancel") from None
        except Exception as exc:
            raise delivery_error(exc, "event_cancel") from None
        return True

    async def send_mail(self, to: str, subject: str, html: str, text: str) -> None:
        """POST /users/{sender}/sendMail (202 = accepted). Graph takes one body: HTML; the plain-text
        rendering is what a reader without HTML sees, so it is kept equivalent (see mail.py)."""
        del text  # sendMail has a single body; the text form is used by tests and the console preview
        message = GraphMessage(
            subject=subject,
            body=ItemBody(content_type=BodyType.Html, content=html),
            to_recipients=[Recipient(email_address=EmailAddress(address=to))],
        )
        try:
            await self._mailbox().send_mail.post(SendMailPostRequestBody(message=message, save_to_sent_items=False))
        except Exception as exc:
            raise delivery_error(exc, "send_mail") from None

    async def busy(self, addresses: list[str], start: datetime, end: datetime) -> list[Busy]:
        """POST /users/{sender}/calendar/getSchedule over `addresses` between start and end (UTC): every
        span that is not free (busy, tentative, out of office, working elsewhere)."""
        body = GetSchedulePostRequestBody(
            schedules=addresses, start_time=_when(start, "UTC"), end_time=_when(end, "UTC"),
            availability_view_interval=30,
        )
        try:
            answer = await self._mailbox().calendar.get_schedule.post(body)
        except Exception as exc:
            raise delivery_error(exc, "get_schedule") from None
        out: list[Busy] = []
        for info in (answer.value if answer else None) or []:
            for item in info.schedule_items or []:
                status = getattr(item.status, "value", item.status)
                if str(status).lower() == "free" or item.start is None or item.end is None:
                    continue
                out.append(Busy(info.schedule_id or "", _utc(item.start), _utc(item.end)))
        return out

    async def install_teams_app(self, user: str, catalog_app_id: str) -> None:
        """POST /users/{user}/teamwork/installedApps binding the org-catalog app (201; 409 = already installed,
        which is fine). Needs TeamsAppInstallation.ReadWriteSelfForUser.All."""
        body = UserScopeTeamsAppInstallation(
            additional_data={"teamsApp@odata.bind": f"{self.api_url}/appCatalogs/teamsApps/{catalog_app_id}"})
        try:
            await self.client.users.by_user_id(user).teamwork.installed_apps.post(body)
        except APIError as exc:
            if exc.response_status_code == 409:
                return
            raise delivery_error(exc, "install") from None
        except Exception as exc:
            raise delivery_error(exc, "install") from None

    async def teams_app_chat(self, user: str, catalog_app_id: str) -> str | None:
        """The id of the user's 1:1 chat with the installed app: the installation is found by the catalog id
        (GET …/installedApps?$filter=teamsApp/id eq '…'), then GET …/installedApps/{id}/chat. None when the
        app is not (yet) installed for the user."""
        apps = self.client.users.by_user_id(user).teamwork.installed_apps
        query = InstalledAppsRequestBuilder.InstalledAppsRequestBuilderGetQueryParameters(
            expand=["teamsApp"], filter="teamsApp/id eq '" + catalog_app_id.replace("'", "''") + "'")
        try:
            found = await apps.get(RequestConfiguration(query_parameters=query))
            installation = next((i.id for i in (found.value if found else None) or [] if i.id), None)
            if installation is None:
                return None
            chat = await apps.by_user_scope_teams_app_installation_id(installation).chat.get()
        except Exception as exc:
            raise delivery_error(exc, "install_chat") from None
        return chat.id if chat is not None and chat.id else None


def _utc(value: DateTimeTimeZone) -> datetime:
    text = (value.date_time or "").split(".")[0]
    tz = value.time_zone or "UTC"
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=ZoneInfo("UTC" if tz.upper() == "UTC" else tz)).astimezone(ZoneInfo("UTC"))
