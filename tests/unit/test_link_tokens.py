"""Action-link tokens are opaque (issue #23): a person id or case reference cannot be read from a URL that
passes mail scanners, proxies and browser histories; links mailed in the readable form still work until they
expire; neither form can be altered or made without the key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.graph.links import LinkRefused, LinkSigner

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNER = LinkSigner("a-link-secret-0123456789", "https://gfi.example.se")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_says_nothing_readable() -> None:
    token = SIGNER.token("sofia.grahn", "acknowledge", "GFI-2026-0042", 7, NOW)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for readable in ("sofia.grahn", "GFI-2026-0042", "acknowledge", "sofia", "0042"):
        assert readable not in token and readable.encode() not in raw
    assert "." not in token and token != SIGNER.token("sofia.grahn", "acknowledge", "GFI-2026-0042", 7, NOW)
    claim = SIGNER.check(token, NOW)
    assert (claim.person_id, claim.action, claim.ref, claim.item) == ("sofia.grahn", "acknowledge", "GFI-2026-0042", 7)


def test_a_link_mailed_in_the_readable_form_still_works_until_it_expires() -> None:
    payload = json.dumps({"j": "old1", "p": "sofia.grahn", "a": "acknowledge", "c": "GFI-2026-0042", "i": None,
                          "e": int((NOW + timedelta(days=7)).timestamp())}, separators=(",", ":")).encode()
    old = f"{_b64(payload)}.{_b64(hmac.new(SIGNER.key, payload, hashlib.sha256).digest())}"
    assert SIGNER.check(old, NOW).person_id == "sofia.grahn"
    with pytest.raises(LinkRefused, match="expired"):
        SIGNER.check(old, NOW + timedelta(days=8))
    with pytest.raises(LinkRefused, match="tampered"):
        SIGNER.check(f"{_b64(payload.replace(b'sofia', b'maria'))}.{old.partition('.')[2]}", NOW)


@pytest.mark.parametrize("change", [
    lambda t: t[:-4],
    lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:],
    lambda t: t + ".",
    lambda t: "",
    lambda t: "AAAA",
    lambda t: LinkSigner("another-secret-0123456789", "https://x").token("sofia.grahn", "acknowledge", None, None,
                                                                         NOW),
])
def test_an_altered_or_foreign_token_is_refused(change: object) -> None:
    token = SIGNER.token("sofia.grahn", "acknowledge", "GFI-2026-0042", None, NOW)
    with pytest.raises(LinkRefused, match="tampered"):
        SIGNER.check(change(token), NOW)  # type: ignore[operator]
