"""Which calendar a backtest's sessions come from: the universe's instruments decide."""

from __future__ import annotations

from pathlib import Path

from quant_backtest.db_source import DatabaseSource
from quant_backtest.runner import universe_calendar
from quant_domain import AssetClass, Instrument
from quant_marketdata import FolderSource, SampleSource, SyntheticSource
from tests.factories import strategy_config


def test_universe_of_xnys_instruments_uses_xnys() -> None:
    config = strategy_config(universe=["SP500", "GOOG"])
    assert universe_calendar(config, SampleSource()) == "XNYS"


def test_universe_with_an_instrument_without_calendar_uses_24_hours() -> None:
    config = strategy_config(universe=["SP500", "EURUSD"])
    assert universe_calendar(config, SampleSource()) is None


def test_synthetic_universe_uses_24_hours() -> None:
    config = strategy_config(universe=["SYN000", "SYN001"])
    assert universe_calendar(config, SyntheticSource(n_symbols=2)) is None


def test_universe_of_different_exchanges_uses_the_first_symbols_calendar(tmp_path: Path) -> None:
    source = FolderSource(tmp_path, instruments={"BP": Instrument("BP", calendar="XLON")})
    assert universe_calendar(strategy_config(universe=["BP", "AAPL"]), source) == "XLON"
    assert universe_calendar(strategy_config(universe=["AAPL", "BP"]), source) == "XNYS"


def test_database_source_knows_the_samples_and_synthetic_series_by_symbol() -> None:
    with DatabaseSource("postgresql://quant@localhost:5432/unused") as source:
        assert source.instrument("EURUSD").calendar is None
        assert source.instrument("SP500").calendar == "XNYS"
        synthetic = source.instrument("SYN012")
        assert (synthetic.asset_class, synthetic.calendar) == (AssetClass.SYNTHETIC, None)
        assert source.instrument("SYNX").calendar == "XNYS"
        assert source.instrument("AAPL") == Instrument("AAPL")
