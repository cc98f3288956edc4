"""Reading who works where from Entra ID through Microsoft Graph (`gfi-bot directory sync --entra`).

One security group per unit: the unit's `entra_group` in the directory, or a mapping file from group ids to
unit ids (`--groups FILE`, YAML `groups: {<group id>: <unit id>}`). For each group, its users
(`GET /groups/{id}/transitiveMembers/microsoft.graph.user`, disabled accounts left out), and for each user
the line manager (`GET /users/{id}/manager`). Application permissions, read only: `User.Read.All` and
`GroupMember.Read.All`.

Plain httpx with the azure-identity token rather than msgraph-sdk: the sync needs exactly two GETs, paging
through `@odata.nextLink` and waiting out 429/503 with `Retry-After`, which are clearer here than the SDK's
page iterator plus a retry middleware the rest of the bot turns off. The wait is injected (`sleep`), so
tests do not wait on wall time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import yaml

from bot.directory.merge import Incoming
from bot.directory.model import DirectoryFile

USER_FIELDS = "id,displayName,mail,userPrincipalName,jobTitle,mobilePhone,businessPhones,accountEnabled"
RETRY_STATUS = frozenset({429, 503, 504})
MAX_TRIES = 6
MAX_WAIT = 120.0  # seconds: a Retry-After longer than this is not waited out
MANAGER_CONCURRENCY = 4


class EntraError(Exception):
    """Graph could not be read; `code` names what (a status or a Graph error code), never personal data."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Token = Callable[[], Awaitable[str]]
Sleep = Callable[[float], Awaitable[None]]


def read_group_map(path: Path) -> dict[str, str]:
    """A mapping file: `groups: {group id: unit id}`; raises ValueError with a Swedish-free code on bad shape."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = raw.get("groups") if isinstance(raw, dict) else None
    if not isinstance(groups, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in groups.items()):
        raise ValueError("groups")
    return dict(groups)


def groups_of(directory: DirectoryFile, mapping: dict[str, str] | None) -> dict[str, str]:
    """Group id -> unit id: the mapping file when given, else the units' `entra_group`."""
    if mapping is not None:
        return mapping
    return {u.entra_group: u.id for u in directory.units if u.entra_group}


class EntraReader:
    def __init__(self, http: httpx.AsyncClient, token: Token, api_url: str, sleep: Sleep = asyncio.sleep) -> None:
        self.http = http
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.sleep = sleep
        self.requests = 0
        self.waited: list[float] = []

    async def _get(self, url: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        for attempt in range(MAX_TRIES):
            self.requests += 1
            try:
                resp = await self.http.get(url, headers={"Authorization": f"Bearer {await self.token()}",
                                                         "ConsistencyLevel": "eventual"})
            except httpx.HTTPError as exc:
                raise EntraError(type(exc).__name__) from None
            if resp.status_code in RETRY_STATUS and attempt + 1 < MAX_TRIES:
                wait = _retry_after(resp, attempt)
                if wait > MAX_WAIT:
                    raise EntraError(str(resp.status_code))
                self.waited.append(wait)
                await self.sleep(wait)
                continue
            if resp.status_code == 404 and missing_ok:
                return None
            if resp.status_code >= 400:
                raise EntraError(f"{resp.status_code} {_code(resp)}".strip())
            body = resp.json()
            if not isinstance(body, dict):
                raise EntraError("not_json_object")
            return body
        raise EntraError("retries_exhausted")

    async def _pages(self, url: str) -> AsyncIterator[dict[str, Any]]:
        next_url: str | None = url
        while next_url:
            page = await self._get(next_url)
            assert page is not None
            for item in page.get("value", []):
                if isinstance(item, dict):
                    yield item
            link = page.get("@odata.nextLink")
            next_url = link if isinstance(link, str) and _same_host(link, self.api_url) else None

    async def group_users(self, group_id: str) -> list[dict[str, Any]]:
        url = (f"{self.api_url}/groups/{quote(group_id, safe='')}/transitiveMembers/microsoft.graph.user"
               f"?$select={USER_FIELDS}")
        return [u async for u in self._pages(url) if u.get("accountEnabled", True) is not False]

    async def manager(self, user_id: str) -> str | None:
        """The manager's e-mail (else UPN), or None when the user has none."""
        body = await self._get(f"{self.api_url}/users/{quote(user_id, safe='')}/manager"
                               "?$select=id,mail,userPrincipalName", missing_ok=True)
        if body is None:
            return None
        value = body.get("mail") or body.get("userPrincipalName")
        return value if isinstance(value, str) else None

    async def read(self, groups: dict[str, str],
                   progress: Callable[[int, int], None] | None = None) -> tuple[list[Incoming], set[str]]:
        """The people of every group (as Incoming, the first group wins for a member of several) and the
        units covered. `progress(done, total)` is told as the users' managers are read (one request each,
        the bulk of the work), after the groups' members."""
        seen: dict[str, tuple[str, dict[str, Any]]] = {}
        for group_id, unit in groups.items():
            for user in await self.group_users(group_id):
                seen.setdefault(str(user.get("id")), (unit, user))
        limit = asyncio.Semaphore(MANAGER_CONCURRENCY)

        done = 0

        async def manager_of(uid: str) -> str | None:
            nonlocal done
            async with limit:
                found = await self.manager(uid)
            done += 1
            if progress is not None:
                progress(done, len(seen))
            return found

        managers = await asyncio.gather(*(manager_of(uid) for uid in seen))
        people = [_incoming(unit, user, mgr) for (unit, user), mgr in zip(seen.values(), managers, strict=True)]
        return [p for p in people if p is not None], set(groups.values())


def _incoming(unit: str, user: dict[str, Any], manager: str | None) -> Incoming | None:
    name = user.get("displayName")
    mail, upn = user.get("mail"), user.get("userPrincipalName")
    if not isinstance(name, str) or not (mail or upn):
        return None
    phones = user.get("businessPhones") or []
    phone = user.get("mobilePhone") or (phones[0] if phones else None)
    return Incoming(unit=unit, name=name, email=mail or None, upn=upn or None, title=user.get("jobTitle") or None,
                    phone=phone if isinstance(phone, str) else None, manager=manager)


def _retry_after(resp: httpx.Response, attempt: int) -> float:
    value = resp.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return float(min(2 ** attempt, 30))


def _code(resp: httpx.Response) -> str:
    try:
        error = resp.json().get("error", {})
        return str(error.get("code", "")) if isinstance(error, dict) else ""
    except ValueError:
        return ""


def _same_host(link: str, api_url: str) -> bool:
    """Follow a next link only to Graph itself (never send the token elsewhere)."""
    a, b = urlsplit(link), urlsplit(api_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
