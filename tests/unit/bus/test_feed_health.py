"""The rule the execution service applies to a live feed's health before a new entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quant_bus.feed_health import FeedHealth, entries_allowed, health_key

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def health(state: str, age_s: float = 1.0) -> FeedHealth:
    return FeedHealth.model_validate(
        {
            "source": "alpaca",
            "symbol": "AAPL",
            "state": state,
            "since": NOW - timedelta(minutes=3),
            "updated_at": NOW - timedelta(seconds=age_s),
        }
    )


def test_entries_allowed_while_ok_or_warn_and_fresh() -> None:
    assert entries_allowed({"AAPL": health("ok")}, "AAPL", NOW)
    assert entries_allowed({"AAPL": health("warn")}, "AAPL", NOW)


def test_entries_refused_when_blocked_stale_or_unknown() -> None:
    assert not entries_allowed({"AAPL": health("block")}, "AAPL", NOW)
    assert not entries_allowed({"AAPL": health("ok", age_s=11)}, "AAPL", NOW)
    assert not entries_allowed({"AAPL": health("ok")}, "MSFT", NOW)
    assert not entries_allowed({}, "AAPL", NOW)


def test_health_key_names_the_feed() -> None:
    assert health_key("live-sip") == "quant:feed_health:live-sip"
