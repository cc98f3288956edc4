"""Signed action links: `<GFI_PUBLIC_URL>/a/<token>`, one action for one person on one case, once.

A token is opaque: `base64url(nonce || AES-256-GCM(payload))` under a key derived from GFI_LINK_SECRET. The
payload binds the token id, person, case, action, item (escalation or follow-up number) and the expiry time;
sealed, it reads as nothing (no person id, no case reference in a URL that passes mail scanners, proxies and
browser histories), and it cannot be altered or made without the key. It works once (its id is written to
`link_uses` when used) and expires (default 7 days).

Links mailed before tokens were sealed (`base64url(json payload) "." base64url(HMAC-SHA256)`, readable) are
still accepted until they expire; none are made any more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.channels.payload import loads
from bot.store import Tx
from bot.store import graph as graph_store

PATH = "/a/"
_NONCE = 12
_AAD = b"gfi-link-v2"
# The actions a link can carry (names as in the channel-neutral Offer, bot/messages/actions.py).
# One click (confirmed on the page, saying what it does): acknowledge, take_over, nudge, complete_follow_up,
# accept_follow_up, decline_follow_up, no_show, resume, reopen, withdraw_consent, confirm_agreement, to_samverkan;
# a small form on the page (issue #20 item 8, forms.py): assign, book, rebook, book_again, appoint,
# record_outcome, add_follow_up, close, wait, hold_now, renew_consent, withdraw_consent_form, dispute,
# settle_dispute, reassign, samverkan_decide (item = the matter); shown (after a button; a case's free text logged
# in the read log; never used up): open, journal. On a report of a brist i samverkan (ref BRIST-ÅÅÅÅ-NNNN):
# brist_measures and brist_dialogue (forms), brist_close (one click), brist_open_report (shown).
ONE_CLICK = frozenset({"acknowledge", "take_over", "nudge", "complete_follow_up", "accept_follow_up",
                       "decline_follow_up", "no_show", "resume", "reopen", "withdraw_consent", "confirm_agreement",
                       "to_samverkan", "brist_close"})
FORMS = frozenset({"assign", "book", "rebook", "book_again", "appoint", "record_outcome", "add_follow_up", "close",
                   "wait", "hold_now", "renew_consent", "withdraw_consent_form", "dispute", "settle_dispute",
                   "reassign", "brist_measures", "brist_dialogue", "samverkan_decide"})
VIEW_ACTIONS = frozenset({"open", "journal", "brist_open_report"})
BRIST_ACTIONS = frozenset({"brist_close", "brist_measures", "brist_dialogue", "brist_open_report"})
ACTIONS = ONE_CLICK | FORMS | VIEW_ACTIONS

class LinkRefused(Exception):
    """A link that cannot be used: `code` is tampered | expired | used | unknown_action | foreign."""

    def __init__(self, code: str, claim: LinkClaim | None = None) -> None:
        self.code = code
        self.claim = claim
        super().__init__(code)


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says."""

    token_id: str
    person_id: str
    action: str
    ref: str | None
    item: int | None
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and checks tokens with one key."""

    def __init__(self, secret: str, public_url: str, days: int = 7) -> None:
        if len(secret) < 16:
            raise ValueError("GFI_LINK_SECRET must be at least 16 characters")
        self.key = hashlib.sha256(b"gfi-link-v1:" + secret.encode()).digest()  # the readable v1 tokens' MAC
        self._aead = AESGCM(hashlib.sha256(b"gfi-link-v2:" + secret.encode()).digest())
        self.public_url = public_url.rstrip("/")
        self.lifetime = timedelta(days=days)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()

    def seal(self, payload: bytes) -> str:
        """An opaque token around `payload` (a fresh nonce each time)."""
        nonce = secrets.token_bytes(_NONCE)
        return _b64(nonce + self._aead.encrypt(nonce, payload, _AAD))

    def _payload(self, token: str) -> bytes:
        """The payload of a genuine token, sealed or (mailed before sealing) signed; LinkRefused otherwise."""
        if "." in token:  # the readable v1 form
            body, _, mac = token.partition(".")
            payload = _unb64(body)
            if not mac or not hmac.compare_digest(_unb64(mac), self._mac(payload)):
                raise LinkRefused("tampered")
            return payload
        raw = _unb64(token)
        if len(raw) <= _NONCE:
            raise LinkRefused("tampered")
        try:
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _AAD)
        except InvalidTag:
            raise LinkRefused("tampered") from None

    def token(self, person_id: str, action: str, ref: str | None, item: int | None, now: datetime) -> str:
        """A new token for one action (a fresh id each time)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown link action {action}")
        claim = {"j": secrets.token_urlsafe(12), "p": person_id, "a": action, "c": ref, "i": item,
                 "e": int((now + self.lifetime).timestamp())}
        return self.seal(json.dumps(claim, separators=(",", ":"), ensure_ascii=False).encode())

    def url(self, person_id: str, action: str, ref: str | None, item: int | None, now: datetime) -> str:
        return f"{self.public_url}{PATH}{self.token(person_id, action, ref, item, now)}"

    def check(self, token: str, now: datetime) -> LinkClaim:
        """The claim of a genuine, unexpired token; LinkRefused otherwise (not yet whether it was used)."""
        try:
            data = loads(self._payload(token))  # depth bounded: a sealed claim nesting thousands of levels is tampered
            claim = LinkClaim(str(data["j"]), str(data["p"]), str(data["a"]),
                              None if data["c"] is None else str(data["c"]),
                              None if data["i"] is None else int(data["i"]),
                              datetime.fromtimestamp(int(data["e"]), tz=now.tzinfo))
        except LinkRefused:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError, OSError):
            raise LinkRefused("tampered") from None  # incl. an item or expiry no integer or time can hold
        if claim.item is not None and not -(2**63) <= claim.item < 2**63:
            raise LinkRefused("tampered")  # no escalation or follow-up number is that large (SQLite's integers)
        if claim.action not in ACTIONS:
            raise LinkRefused("unknown_action", claim)
        if claim.expires <= now:
            raise LinkRefused("expired", claim)
        return claim


async def mark_used(tx: Tx, claim: LinkClaim, now: datetime) -> bool:
    """Record the use; False when the token was already used (a race or a second click)."""
    return await graph_store.mark_link_used(tx, token_id=claim.token_id, person_id=claim.person_id,
                                            case_ref=claim.ref, action=claim.action, now=now)
