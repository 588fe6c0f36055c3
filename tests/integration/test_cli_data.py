"""quant data ingest / quant db / --data db, against a real test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_db.settings import get_settings
from tests.unit.cli.test_cli import MOMENTUM, quant


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_ingest_then_backtest_from_the_database(
    cli_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = quant(
        capsys, monkeypatch, "data", "ingest", "--source", "samples", "--symbols", "SP500"
    )
    assert code == 0
    assert "│ SP500  │    5,031 │    5,031 │" in out
    code, out, _ = quant(
        capsys, monkeypatch, "data", "ingest", "--source", "samples", "--symbols", "SP500"
    )
    assert "│ SP500  │    5,031 │        0 │       0 │     5,031 │" in out
    code, out, _ = quant(
        capsys, monkeypatch, "backtest", MOMENTUM, "--data", "db", "--out", str(tmp_path)
    )
    assert code == 0
    assert "momentum_v1 on db 1999-01-04 .. 2018-12-31: 116 fills" in out


def test_synthetic_ingest_quotes_prices_to_four_decimals_unless_told(
    cli_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated prices have ~17 significant digits, more than float8 storage keeps exactly
    (ADR 0012); the ingest command quotes them like a venue instead of quarantining them all."""
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = quant(
        capsys, monkeypatch, "data", "ingest", "--source", "synthetic:symbols=2,bars=50"
    )
    assert code == 0
    assert "│ SYN000 │       50 │       50 │       0 │         0 │           0 │" in out
    code, out, _ = quant(
        capsys, monkeypatch, "data", "ingest", "--source", "synthetic:symbols=1,bars=50,decimals=8"
    )
    assert code == 0  # an explicit decimals key is kept: 8 places differ from 4, so all update
    assert "│ SYN000 │       50 │        0 │      50 │         0 │           0 │" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["data", "ingest", "--source", "csv"], "--source csv needs --path FOLDER"),
        (["data", "ingest", "--symbols", "NOPE"], "--symbols: NOPE not in samples"),
        (["data", "ingest", "--source", "alpaca"], "--source alpaca needs --symbols"),
        (
            ["backtest", MOMENTUM, "--data", "db"],
            "unknown symbol 'SP500'; the data source has no symbols at all",
        ),
    ],
)
def test_data_mistakes_exit_2(
    args: list[str],
    expected: str,
    cli_database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = quant(capsys, monkeypatch, *args)
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_db_url_hides_the_password(
    cli_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = quant(capsys, monkeypatch, "db", "url")
    assert code == 0
    assert out.strip().startswith("postgresql+asyncpg://")
