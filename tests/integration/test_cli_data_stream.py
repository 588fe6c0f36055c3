"""`quant data stream` as a user runs it: bad options, refused keys, and a clean stop on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from quant_bus.feed_health import health_key
from quant_db.settings import get_settings
from quant_marketdata.alpaca.settings import get_settings as alpaca_settings
from tests.fakes.alpaca_market_stream import KEY_ID, SECRET_KEY, FakeAlpacaMarketStream
from tests.fakes.tws import FakeTws
from tests.unit.cli.test_cli import quant

QUANT = str(Path(sys.executable).parent / "quant")


@pytest.fixture
def fake() -> Iterator[FakeAlpacaMarketStream]:
    with FakeAlpacaMarketStream() as server:
        yield server


@pytest.fixture
def platform(
    redis_url: str, fake: FakeAlpacaMarketStream, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """REDIS_URL, the Alpaca keys and the stream's origin pointed at the test's servers."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("APCA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("QUANT_ALPACA_STREAM_URL", fake.url)
    get_settings.cache_clear()
    alpaca_settings.cache_clear()
    yield redis_url
    get_settings.cache_clear()
    alpaca_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--source", "polygon", "--symbols", "SPY"],
            "--source: 'polygon' is not one of alpaca, ib",
        ),
        (["--source", "ib", "--symbols", "SPY", "--feed", "sip"], "--feed: only --source alpaca"),
        (["--timeframe", "5m"], "--symbols: give at least one symbol"),
        (["--symbols", "SPY", "--feed", "otc"], "--feed: 'otc' is not one of iex, sip"),
        (
            ["--symbols", "SPY", "--timeframe", "1w"],
            "timeframe: live bars are built within a session",
        ),
        (["--symbols", "SPY", "--timeframe", "5x"], "invalid timeframe '5x'"),
        (["--symbols", "SPY", "--calendar", "NOPE"], "calendar: unknown trading calendar 'NOPE'"),
    ],
)
def test_data_stream_with_a_bad_option_exits_2_with_one_line(
    platform: str,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = quant(capsys, monkeypatch, "data", "stream", *args)
    assert code == 2
    assert err.startswith(f"error: {message}")
    assert len(err.strip().splitlines()) == 1


def test_data_stream_without_keys_exits_2_naming_the_variables(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID")
    monkeypatch.setenv("APCA_API_KEY_ID", "")
    code, _, err = quant(capsys, monkeypatch, "data", "stream", "--symbols", "SPY")
    assert code == 2
    assert err.startswith("error: APCA_API_KEY_ID not set")


def test_data_stream_with_refused_keys_exits_2_naming_the_variables(
    platform: str,
    fake: FakeAlpacaMarketStream,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.fail_auth = True
    code, _, err = quant(capsys, monkeypatch, "data", "stream", "--symbols", "SPY")
    assert code == 2
    assert "error: Alpaca's stream refused the API keys (402 auth failed)" in err
    assert fake.auth_attempts == 1


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "alpaca"), (signal.SIGINT, "live-sip")]
)
def test_data_stream_runs_until_a_signal_then_withdraws_its_health_and_exits_0(
    platform: str, fake: FakeAlpacaMarketStream, signum: signal.Signals, name: str
) -> None:
    client = redis.Redis.from_url(platform, decode_responses=True)
    client.delete(health_key(name))
    named = [] if name == "alpaca" else ["--name", name]
    service = subprocess.Popen(
        [
            QUANT,
            "data",
            "stream",
            "--symbols",
            "aapl,MSFT",
            "--timeframe",
            "5m",
            "--feed",
            "sip",
            *named,
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake.wait_subscribed("MSFT", timeout=30)
        deadline = time.monotonic() + 10
        while sorted(client.hkeys(health_key(name))) != ["AAPL", "MSFT"]:
            assert time.monotonic() < deadline, "the feed's health was never written"
            time.sleep(0.05)
        service.send_signal(signum)
        out, err = service.communicate(timeout=20)
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate()
        client.close()
    assert service.returncode == 0, err
    assert fake.paths == ["/v2/sip"]
    assert out.strip() == (
        f"published 0 steps (0 bars) of AAPL, MSFT as feed '{name}'; 0 forced reconnect(s)"
    )
    assert "streaming 5m bars of AAPL, MSFT" in err
    again = redis.Redis.from_url(platform, decode_responses=True)
    try:
        assert again.hkeys(health_key(name)) == []
    finally:
        again.close()


def test_data_stream_from_ib_subscribes_real_time_bars_and_stops_on_sigterm(
    platform: str,
) -> None:
    with FakeTws() as tws:
        env = {**os.environ, "QUANT_IB_DATA_HOST": "127.0.0.1", "QUANT_IB_DATA_PORT": str(tws.port)}
        service = subprocess.Popen(
            [QUANT, "data", "stream", "--source", "ib", "--symbols", "SPY", "--name", "ib-test"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not any("SPY" in list(s.bars.values()) for s in list(tws.sessions)):
                assert service.poll() is None, service.communicate()
                assert time.monotonic() < deadline, "the feed never subscribed SPY"
                time.sleep(0.05)
            service.send_signal(signal.SIGTERM)
            out, err = service.communicate(timeout=20)
        finally:
            if service.poll() is None:
                service.kill()
                service.communicate()
    assert service.returncode == 0, err
    assert out.strip().startswith("published 0 steps (0 bars) of SPY as feed 'ib-test'")
    assert f"from ib://127.0.0.1:{tws.port}" in err
