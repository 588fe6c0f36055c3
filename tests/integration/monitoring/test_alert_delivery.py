"""Alerts delivered to local receivers: Slack and the signed webhook over HTTP, email over SMTP;
dedupe per channel, retries with backoff, a recorded failure."""

from __future__ import annotations

import asyncio
import email
import json
import time
import uuid
from datetime import UTC, datetime

from quant_db.alerts import Severity, raise_alert
from quant_monitoring import deliveries
from quant_monitoring.dispatcher import Dispatcher
from quant_monitoring.message import signature
from tests.fakes.alert_receivers import http_receiver, smtp_server
from tests.integration.monitoring.delivery import (
    SECRET,
    config,
    delivery_rows,
    raise_one,
    sessions,
)


async def _until(dispatcher: Dispatcher, done: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await dispatcher.pump()
        await dispatcher.drain()
        if callable(done) and await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the deliveries did not settle in time")


def test_alert_to_slack_webhook_and_email_arrives_with_exact_json_and_valid_hmac(
    database_url: str,
) -> None:
    with http_receiver() as receiver, smtp_server() as mailbox:
        channels = config(
            f"""
channels:
  - {{name: slack, kind: slack, url: "{receiver.url("/slack")}", min_severity: warning}}
  - name: hook
    kind: webhook
    url: "{receiver.url("/hook")}"
    secret: ${{HOOK_SECRET}}
    min_severity: info
  - {{name: mail, kind: email, host: 127.0.0.1, port: {mailbox.port}, starttls: false,
      sender: alerts@quant.local, to: [ops@quant.local], min_severity: critical}}
""",
            HOOK_SECRET=SECRET,
        )
        run_id = uuid.uuid4()

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                async with factory() as session:
                    alert = await raise_alert(
                        session,
                        severity=Severity.CRITICAL,
                        source="risk",
                        title="Daily loss breaker tripped",
                        message="momentum_v1 lost 2.1% today: the account is reduce_only",
                        dedupe_key="breaker:daily_loss:2026-12-07",
                        strategy_id="momentum_v1",
                        run_id=run_id,
                        context={"loss_ratio": 0.021},
                    )
                    await session.commit()
                    assert alert is not None
                    alert_id, ts = alert.id, alert.ts
                dispatcher = Dispatcher(factory, channels, poll_s=0.05)
                try:

                    async def settled() -> bool:
                        rows = await delivery_rows(factory)
                        return len(rows) == 3 and all(r.status == "delivered" for r in rows)

                    await _until(dispatcher, settled)
                finally:
                    await dispatcher.close()
                requests = {r.path: r for r in receiver.wait_for(2)}
                slack = json.loads(requests["/slack"].body)
                assert slack == {
                    "text": "[CRITICAL] Daily loss breaker tripped\n"
                    "momentum_v1 lost 2.1% today: the account is reduce_only\n"
                    "source: risk | strategy: momentum_v1"
                }
                hook = requests["/hook"]
                assert json.loads(hook.body) == {
                    "event": "alert.raised",
                    "alert_id": alert_id,
                    "severity": "critical",
                    "ts": ts.astimezone(UTC).isoformat(),
                    "source": "risk",
                    "title": "Daily loss breaker tripped",
                    "message": "momentum_v1 lost 2.1% today: the account is reduce_only",
                    "dedupe_key": "breaker:daily_loss:2026-12-07",
                    "details": {
                        "strategy_id": "momentum_v1",
                        "run_id": str(run_id),
                        "loss_ratio": 0.021,
                    },
                }
                stamp = hook.headers["X-Quant-Timestamp"]
                assert abs(int(stamp) - time.time()) < 60
                assert hook.headers["X-Quant-Signature"] == signature(SECRET, stamp, hook.body)
                assert hook.headers["X-Quant-Signature"] != signature(
                    "wrong" + SECRET, stamp, hook.body
                )
                sender, recipients, raw = mailbox.wait_for(1)[0]
                mail = email.message_from_bytes(raw)
                assert (sender, recipients) == ("alerts@quant.local", ["ops@quant.local"])
                assert mail["Subject"] == "[quant critical] Daily loss breaker tripped"
                body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")  # type: ignore[union-attr]
                assert body.startswith("momentum_v1 lost 2.1% today: the account is reduce_only\n")
                assert f"alert id: {alert_id}" in body

        asyncio.run(scenario())


def test_alert_below_a_channels_min_severity_skips_that_channel(database_url: str) -> None:
    with http_receiver() as receiver:
        channels = config(
            f"""
channels:
  - {{name: slack, kind: slack, url: "{receiver.url("/slack")}", min_severity: critical}}
  - {{name: all, kind: slack, url: "{receiver.url("/all")}", min_severity: info}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                await raise_one(factory, "k", severity=Severity.WARNING)
                dispatcher = Dispatcher(factory, channels)
                try:
                    await dispatcher.pump()
                    await dispatcher.drain()
                finally:
                    await dispatcher.close()
                rows = await delivery_rows(factory)
                assert [(r.channel, r.status) for r in rows] == [("all", "delivered")]

        asyncio.run(scenario())


def test_two_alerts_with_one_key_within_five_minutes_are_delivered_once_per_channel(
    database_url: str,
) -> None:
    with http_receiver() as receiver:
        channels = config(
            f"""
channels:
  - {{name: a, kind: slack, url: "{receiver.url("/a")}"}}
  - {{name: b, kind: webhook, url: "{receiver.url("/b")}", secret: "{SECRET}"}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                first = await raise_one(factory, "stale_data:SPY")
                dispatcher = Dispatcher(factory, channels)
                try:
                    await dispatcher.pump()
                    await dispatcher.drain()
                    second = await raise_one(factory, "stale_data:SPY")
                    other = await raise_one(factory, "stale_data:QQQ")
                    await dispatcher.pump()
                    await dispatcher.drain()
                finally:
                    await dispatcher.close()
                rows = await delivery_rows(factory)
                assert sorted((r.alert_id, r.channel, r.status) for r in rows) == sorted(
                    [
                        (first, "a", "delivered"),
                        (first, "b", "delivered"),
                        (second, "a", "suppressed"),
                        (second, "b", "suppressed"),
                        (other, "a", "delivered"),
                        (other, "b", "delivered"),
                    ]
                )
                assert sorted(r.path for r in receiver.requests) == ["/a", "/a", "/b", "/b"]

        asyncio.run(scenario())


def test_failing_receiver_is_retried_with_backoff_then_the_failure_is_recorded(
    database_url: str,
) -> None:
    with http_receiver() as receiver:
        receiver.script = [(500, "rollup_error", {})] * 3
        channels = config(
            f"""
channels:
  - {{name: slack, kind: slack, url: "{receiver.url("/slack")}"}}
delivery: {{max_attempts: 3, backoff_s: 0.2, backoff_max_s: 5, timeout_s: 2}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                await raise_one(factory, "run_failed:1")
                dispatcher = Dispatcher(factory, channels)

                async def settled() -> bool:
                    rows = await delivery_rows(factory)
                    return rows[0].status == "failed"

                try:
                    await _until(dispatcher, settled)
                finally:
                    await dispatcher.close()
                (row,) = await delivery_rows(factory)
                assert (row.attempts, row.status) == (3, "failed")
                assert row.last_error == "HTTP 500: rollup_error"
                assert "127.0.0.1" not in (row.last_error or "")
                gaps = [
                    b.at - a.at
                    for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)
                ]
                # backoff 0.2 s then 0.4 s (doubling); the poll adds up to its own period
                assert len(gaps) == 2
                assert gaps[0] >= 0.2
                assert gaps[1] >= 0.4

        asyncio.run(scenario())


def test_rate_limited_slack_waits_its_retry_after_and_a_bad_payload_is_not_retried(
    database_url: str,
) -> None:
    with http_receiver() as receiver:
        receiver.script = [
            (429, "", {"Retry-After": "1"}),
            (200, "ok", {}),
            (400, "invalid_payload", {}),
        ]
        channels = config(
            f"""
channels:
  - {{name: slack, kind: slack, url: "{receiver.url("/slack")}"}}
delivery: {{max_attempts: 5, backoff_s: 0.05, timeout_s: 2, concurrency: 1}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                await raise_one(factory, "k1")
                dispatcher = Dispatcher(factory, channels)

                async def first_done() -> bool:
                    return (await delivery_rows(factory))[0].status == "delivered"

                try:
                    await _until(dispatcher, first_done)
                    await raise_one(factory, "k2")

                    async def second_done() -> bool:
                        return (await delivery_rows(factory))[1].status == "failed"

                    await _until(dispatcher, second_done)
                finally:
                    await dispatcher.close()
                first, second = await delivery_rows(factory)
                assert first.attempts == 2
                assert receiver.requests[1].at - receiver.requests[0].at >= 1.0
                assert (second.attempts, second.last_error) == (1, "HTTP 400: invalid_payload")

        asyncio.run(scenario())


def test_hanging_receiver_times_out_while_other_channels_deliver(database_url: str) -> None:
    with http_receiver(hang_s=6.0) as hanging, http_receiver() as healthy:
        channels = config(
            f"""
channels:
  - {{name: dead, kind: slack, url: "{hanging.url()}"}}
  - {{name: live, kind: slack, url: "{healthy.url()}"}}
delivery: {{timeout_s: 3, max_attempts: 1}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                await raise_one(factory, "k")
                dispatcher = Dispatcher(factory, channels)
                try:
                    started = time.monotonic()
                    await dispatcher.pump()
                    await asyncio.to_thread(healthy.wait_for, 1, 2.0)
                    # delivered while the other send still waits out its 3 s timeout
                    assert time.monotonic() - started < 2.5
                    await dispatcher.drain()
                finally:
                    await dispatcher.close()
                rows = {r.channel: r for r in await delivery_rows(factory)}
                assert rows["live"].status == "delivered"
                assert rows["dead"].status == "failed"
                assert rows["dead"].last_error is not None
                assert rows["dead"].last_error.startswith("no answer within 3 s")

        asyncio.run(scenario())


def test_raise_alert_with_an_open_key_adds_no_second_row(database_url: str) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory, factory() as session:
            first = await raise_alert(
                session,
                severity=Severity.WARNING,
                source="monitoring",
                message="m",
                dedupe_key="heartbeat_missing:x",
            )
            again = await raise_alert(
                session,
                severity=Severity.WARNING,
                source="monitoring",
                message="m",
                dedupe_key="heartbeat_missing:x",
            )
            assert first is not None
            assert again is None
            first.acknowledged_at = datetime.now(UTC)
            await session.flush()
            recent = await raise_alert(
                session,
                severity=Severity.WARNING,
                source="monitoring",
                message="m",
                dedupe_key="heartbeat_missing:x",
            )
            assert recent is None  # acknowledged, but raised within the quiet period
            later = await raise_alert(
                session,
                severity=Severity.WARNING,
                source="monitoring",
                message="m",
                dedupe_key="heartbeat_missing:x",
                quiet_s=0,
            )
            assert later is not None

    asyncio.run(scenario())


def test_same_key_after_the_dedupe_window_is_delivered_again(database_url: str) -> None:
    with http_receiver() as receiver:
        channels = config(
            f"""
channels:
  - {{name: a, kind: slack, url: "{receiver.url("/a")}"}}
delivery: {{dedupe_window_s: 0.5}}
"""
        )

        async def scenario() -> None:
            async with sessions(database_url) as factory:
                dispatcher = Dispatcher(factory, channels)
                try:
                    await raise_one(factory, "stale_data:SPY")
                    await dispatcher.pump()
                    await dispatcher.drain()
                    await asyncio.sleep(0.6)
                    await raise_one(factory, "stale_data:SPY")
                    await dispatcher.pump()
                    await dispatcher.drain()
                finally:
                    await dispatcher.close()
                assert [r.status for r in await delivery_rows(factory)] == [
                    "delivered",
                    "delivered",
                ]

        asyncio.run(scenario())


def test_delivery_whose_sender_died_is_claimed_again_when_its_lease_runs_out(
    database_url: str,
) -> None:
    channels = config('channels:\n  - {name: a, kind: slack, url: "http://127.0.0.1:9/a"}\n')

    async def scenario() -> None:
        async with sessions(database_url) as factory:
            await raise_one(factory, "k")
            async with factory() as session:
                await deliveries.route(session, channels.channels, 300)
                first = await deliveries.claim(session, 5, 0.3, ["a"])
                await session.commit()
            async with factory() as session:
                assert await deliveries.claim(session, 5, 0.3, ["a"]) == []  # leased
                await session.commit()
            await asyncio.sleep(0.5)  # the sender "died": its lease runs out
            async with factory() as session:
                again = await deliveries.claim(session, 5, 0.3, ["a"])
                await session.commit()
            assert [c.delivery_id for c in again] == [c.delivery_id for c in first]
            assert (first[0].attempts, again[0].attempts) == (1, 2)

    asyncio.run(scenario())
