"""`quant brokers check`: connects through the real adapter to the local protocol servers, prints
the account summary and places nothing (exit 0); an unreachable broker is one line and exit 1; a
bad option, or an account on the simulated broker, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.alpaca_broker import KEY_ID, SECRET_KEY, FakeAlpacaBroker
from tests.fakes.tws import FakeTws
from tests.unit.cli.test_cli import quant

QUANT = str(Path(sys.executable).parent / "quant")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tws() -> Iterator[Any]:
    server = FakeTws(account="DU7654321").start()
    yield server
    server.stop()


def test_brokers_check_prints_the_ib_account_and_places_no_order(
    tws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANT_IB_HOST", "127.0.0.1")
    monkeypatch.setenv("QUANT_IB_PORT", str(tws.port))
    code, out, err = quant(capsys, monkeypatch, "brokers", "check", "--broker", "ib")
    assert code == 0, err
    assert "DU7654321" in out
    assert f"127.0.0.1:{tws.port}" in out
    assert tws.placed == []  # a check sends no order


def test_brokers_check_an_unreachable_ib_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANT_IB_PORT", str(closed_port()))
    monkeypatch.setenv("QUANT_IB_CONNECT_TIMEOUT", "1")
    code, out, err = quant(
        capsys, monkeypatch, "brokers", "check", "--broker", "ib", "--timeout", "2"
    )
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "unreachable" in err


def test_brokers_check_an_unreachable_broker_prints_one_line_from_a_shell() -> None:
    # in its own process: nothing captures the libraries' logging there, as for a user
    done = subprocess.run(
        [QUANT, "brokers", "check", "--broker", "ib", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QUANT_IB_PORT": str(closed_port()), "QUANT_IB_CONNECT_TIMEOUT": "1"},
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: cannot connect to ib")


def test_brokers_check_a_bad_option_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(capsys, monkeypatch, "brokers", "check", "--broker", "binance")
    assert code == 2
    assert "--broker" in err


def test_brokers_check_an_account_on_the_simulator_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANT_ACCOUNT_BROKERS", "paper=sim")
    code, out, err = quant(capsys, monkeypatch, "brokers", "check", "--account", "paper")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "simulated broker" in err


def test_brokers_check_a_malformed_account_list_exits_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANT_ACCOUNT_BROKERS", "paper")
    code, _, err = quant(capsys, monkeypatch, "brokers", "check")
    assert code == 2
    assert "QUANT_ACCOUNT_BROKERS" in err


@pytest.fixture
def alpaca(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with FakeAlpacaBroker() as server:
        monkeypatch.setenv("APCA_API_KEY_ID", KEY_ID)
        monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET_KEY)
        monkeypatch.setenv("QUANT_ALPACA_BROKER_TRADING_URL", server.url)
        monkeypatch.setenv("QUANT_ALPACA_BROKER_STREAM_URL", server.stream_url)
        monkeypatch.setenv("QUANT_ACCOUNT_BROKERS", "alpaca-paper=alpaca")
        yield server


def test_brokers_check_prints_the_alpaca_account_and_places_no_order(
    alpaca: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = quant(capsys, monkeypatch, "brokers", "check", "--account", "alpaca-paper")
    assert code == 0, err
    assert "alpaca" in out
    assert alpaca.url in out
    assert "equity" in out
    assert not [r for r in alpaca.requests if r[0] == "POST"]  # no order was placed
    assert SECRET_KEY not in out + err


def test_brokers_check_alpaca_refusing_the_keys_is_one_line_and_exit_1(
    alpaca: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-the-right-secret")
    code, out, err = quant(
        capsys, monkeypatch, "brokers", "check", "--broker", "alpaca", "--timeout", "3"
    )
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "not-the-right-secret" not in err
