"""Files a coordinator asks for in Teams (the yearly brist report, the statistics as CSV), behind signed links.

A bot in a personal chat cannot attach a file without the file consent flow and the person's OneDrive; a
signed link on the bot's own public address (`GFI_PUBLIC_URL/f/<token>`) works on desktop, web and mobile.
The token is `base64url(json) "." base64url(HMAC-SHA256)` with a key derived from `GFI_LINK_SECRET` (not the
e-mail action links' key), names the person, the file and its expiry (one hour), and is checked again when
used: the person must still be a coordinator. A link works once (its id is written to `link_uses` on the first
download, like the e-mail action links); a HEAD request reads nothing and uses nothing. The files name no person
and no free text about an individual (the yearly report counts brister by cause and unit; the statistics count
cases per unit). GET only reads.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.brister.report import write_year
from bot.brister.rules import is_coordinator
from bot.core import Core
from bot.numerals import is_number
from bot.stats.export import write_csv
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from bot.store import graph as link_store

log = logging.getLogger(__name__)

PATH = "/f/"
LIFETIME = timedelta(hours=1)
YEAR_FILES = ("html", "png", "csv")  # what write_year writes, in its order
TYPES = {"html": "text/html", "png": "image/png", "csv": "text/csv"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FileLinks:
    """Makes the links and serves `GET /f/<token>`."""

    def __init__(self, core: Core, secret: str, public_url: str) -> None:
        self.core = core
        self.key = hashlib.sha256(b"gfi-file-v1:" + secret.encode()).digest()
        self.public_url = public_url.rstrip("/")

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()

    def url(self, person_id: str, kind: str, arg: str, now: datetime) -> str:
        """A link to one file: `kind` "year" (arg "ÅÅÅÅ:html|png|csv") or "stats" (arg "12m")."""
        claim = {"j": secrets.token_urlsafe(12), "p": person_id, "k": kind, "a": arg,
                 "e": int((now + LIFETIME).timestamp())}
        payload = json.dumps(claim, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{self.public_url}{PATH}{_b64(payload)}.{_b64(self._mac(payload))}"

    def year_links(self, person_id: str, year: int, now: datetime) -> list[tuple[str, str]]:
        """(file name, link) of the yearly report's three files."""
        return [(f"brister-{year}.{ext}", self.url(person_id, "year", f"{year}:{ext}", now)) for ext in YEAR_FILES]

    def claim(self, token: str, now: datetime) -> tuple[str, str, str, str] | None:
        """(token id, person, kind, arg) of a genuine, unexpired token; None otherwise."""
        try:
            body, _, mac = token.partition(".")
            payload = _unb64(body)
            if not mac or not hmac.compare_digest(_unb64(mac), self._mac(payload)):
                return None
            data = json.loads(payload)
            token_id, person, kind, arg = str(data["j"]), str(data["p"]), str(data["k"]), str(data["a"])
            expires = int(data["e"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if expires <= now.timestamp():
            return None
        return token_id, person, kind, arg

    async def get(self, request: web.Request) -> web.StreamResponse:
        now = self.core.clock.now()
        claim = self.claim(request.match_info.get("token", ""), now)
        if claim is None:
            return web.Response(status=404, text=self.core.renderer.macro("teams", "file_gone"))
        token_id, person_id, kind, arg = claim
        if not is_coordinator(person_id, self.core.directory):
            log.info("file link refused", extra={"event": "teams.file_refused", "reason": "not_coordinator"})
            return web.Response(status=404, text=self.core.renderer.macro("teams", "file_gone"))
        if request.method == "HEAD":
            return web.Response(status=200, headers={"Cache-Control": "no-store"})
        async with self.core.db.transaction() as tx:
            first = await link_store.mark_link_used(tx, token_id="f:" + token_id, person_id=person_id, case_ref=None,
                                                    action="file:" + kind, now=now)
        if not first:
            log.info("file link refused", extra={"event": "teams.file_refused", "reason": "used"})
            return web.Response(status=410, text=self.core.renderer.macro("teams", "file_used"))
        made = await self._file(kind, arg)
        if made is None:
            async with self.core.db.transaction() as tx:
                await link_store.forget_link_use(tx, "f:" + token_id)
            return web.Response(status=404, text=self.core.renderer.macro("teams", "file_gone"))
        name, data = made
        log.info("file downloaded", extra={"event": "teams.file_sent", "kind": kind})
        return web.Response(body=data, content_type=TYPES[name.rsplit(".", 1)[1]], headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    async def _file(self, kind: str, arg: str) -> tuple[str, bytes] | None:
        core = self.core
        with tempfile.TemporaryDirectory(prefix="gfi-file-") as tmp:
            if kind == "year":
                year, _, ext = arg.partition(":")
                if not (is_number(year) and len(year) == 4 and ext in YEAR_FILES):
                    return None
                reports = await core.brister.year_reports(int(year))
                paths = await asyncio.to_thread(write_year, Path(tmp), int(year), reports, core.renderer,
                                                made=core.brister.today())
                path = paths[YEAR_FILES.index(ext)]
            elif kind == "stats":
                start, end = last_twelve_months(core.clock.now().astimezone(core.calendar.tz).date())
                report = await build_report(core.db, core.directory, core.calendar, core.settings.timezone,
                                            start, end)
                path = Path(tmp) / f"gfi-statistik-{start.isoformat()}-{end.isoformat()}.csv"
                await asyncio.to_thread(write_csv, path, core.renderer, report)
            else:
                return None
            return path.name, path.read_bytes()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PATH + "{token}", self.get)
