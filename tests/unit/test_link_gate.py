"""The link pages' gate (bot/channels/graph/edge.py) stays bounded under a flood from many addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.channels.graph import edge

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_flood_from_many_addresses_is_bounded_in_memory_and_in_audit_rows() -> None:
    gate = edge.LinkGate()
    assert gate.roll(NOW) is None  # the first window opens
    audited = sum(gate.refused(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}") for n in range(100_000))
    assert audited == edge.AUDITED
    assert len(gate.counts) <= edge.MAX_ADDRESSES + 1
    # past MAX_ADDRESSES the newcomers share one bucket, which is limited like one address
    assert gate.limited("192.0.2.1")
    summary = gate.roll(NOW + edge.WINDOW)
    assert summary == edge.Summary(NOW, 100_000, edge.MAX_ADDRESSES + 1, 100_000 - edge.AUDITED, 1)
    assert gate.counts == {} and gate.roll(NOW + edge.WINDOW + timedelta(minutes=1)) is None


def test_a_quiet_window_needs_no_aggregate_row() -> None:
    gate = edge.LinkGate()
    gate.roll(NOW)
    assert gate.refused("198.51.100.7") and not gate.limited("198.51.100.7")
    assert gate.roll(NOW + edge.WINDOW) is None  # every refusal was audited on its own
    assert gate.retry_after(NOW + edge.WINDOW) == int(edge.WINDOW.total_seconds()) + 1
