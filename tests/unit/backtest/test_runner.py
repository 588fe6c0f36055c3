"""run() on real sample data: reproducible, benchmarked, and its JSON complete and finite."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from quant_backtest import run
from quant_backtest.report_json import result_to_dict
from quant_engine import BacktestConfig
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


@pytest.fixture(scope="module")
def samples() -> SampleSource:
    return SampleSource()


def test_same_inputs_give_identical_results_and_metadata(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    first = run(config, samples, BacktestConfig())
    second = run(config, samples, BacktestConfig())
    assert first.id != second.id
    assert first.metadata.config_hash == second.metadata.config_hash
    assert first.metadata.data_fingerprint == second.metadata.data_fingerprint
    np.testing.assert_array_equal(first.equity.to_numpy(), second.equity.to_numpy())
    assert first.metrics == second.metrics


def test_changed_param_or_data_range_changes_hash_or_fingerprint(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    base = run(config, samples, BacktestConfig())
    other_param = run(config.updated(params={"fast": 10, "slow": 50}), samples, BacktestConfig())
    other_range = run(config, samples, BacktestConfig(start=date(2005, 1, 1)))
    assert other_param.metadata.config_hash != base.metadata.config_hash
    assert other_param.metadata.data_fingerprint == base.metadata.data_fingerprint
    assert other_range.metadata.data_fingerprint != base.metadata.data_fingerprint


def test_buy_and_hold_tracks_its_frictionless_benchmark(samples: SampleSource) -> None:
    result = run(load_strategy_config(CONFIGS / "buy_and_hold.yaml"), samples, BacktestConfig())
    assert result.benchmark is not None
    # same path up to the one-off entry cost and the cash left over from whole units
    ratio = result.equity["equity"] / result.benchmark
    assert ratio.iloc[-1] == pytest.approx(ratio.iloc[1], rel=0.02)
    assert result.benchmark.iloc[0] == 100_000
    assert result.benchmark.iloc[-1] == pytest.approx(100_000 * 2506.850098 / 1228.099976)
    assert len(result.trades) == 1
    assert result.trades[0].is_open


def test_xsec_momentum_rotates_across_symbols(samples: SampleSource) -> None:
    result = run(load_strategy_config(CONFIGS / "xsec_momentum_v1.yaml"), samples, BacktestConfig())
    traded = {f.symbol for f in result.fills}
    assert traded == {"SP500", "NASDAQ", "GOOG"}
    assert result.start.year == 2004
    assert result.end.date().isoformat() == "2013-03-01"


def test_mean_reversion_on_nasdaq_trades_and_reports(samples: SampleSource) -> None:
    result = run(
        load_strategy_config(CONFIGS / "mean_reversion_v1.yaml"), samples, BacktestConfig()
    )
    assert result.metrics.num_trades >= 10
    assert all(f.symbol == "NASDAQ" for f in result.fills)


def test_result_json_is_finite_and_links_fills_to_trades(samples: SampleSource) -> None:
    result = run(load_strategy_config(CONFIGS / "momentum_v1.yaml"), samples, BacktestConfig())
    data = result_to_dict(result)
    text = json.dumps(data, allow_nan=False)
    assert '"format_version": 2' in text
    fill_ids = {f["fill_id"] for t in data["trades"] for f in t["fills"]}
    assert fill_ids == {f.fill_id for f in result.fills}
    assert data["equity_curve"][-1]["equity"] == pytest.approx(result.metrics.end_equity)
    assert data["metadata"]["data_source"] == "samples"


def test_warmup_feeds_indicators_before_start_without_trading(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    # the 20-day SMA of the S&P 500 crossed above the 50-day one on 2010-03-11 and stayed there
    warm = run(config, samples, BacktestConfig(start=date(2010, 4, 1), warmup_bars=50))
    cold = run(config, samples, BacktestConfig(start=date(2010, 4, 1)))
    assert warm.equity.index[0] == cold.equity.index[0]
    assert warm.fills[0].timestamp == warm.equity.index[0]  # long on the first tradeable bar
    assert cold.fills[0].timestamp > cold.equity.index[50]  # needs 50 bars of its own first
    assert warm.metadata.data_fingerprint != cold.metadata.data_fingerprint


def test_liquidate_at_end_closes_every_position_with_costs(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "buy_and_hold.yaml")
    result = run(config, samples, BacktestConfig(end=date(2005, 12, 30), liquidate_at_end=True))
    assert [t.is_open for t in result.trades] == [False]
    assert result.orders[-1].order.reason == "liquidated at the end of the run"
    assert result.fills[-1].timestamp == result.equity.index[-1]
    assert result.equity["positions_value"].iloc[-1] == 0


def test_buy_and_hold_reports_its_position_as_one_open_trade_marked_at_the_last_close(
    samples: SampleSource,
) -> None:
    result = run(load_strategy_config(CONFIGS / "buy_and_hold.yaml"), samples, BacktestConfig())
    m = result.metrics
    assert (m.num_trades, m.open_trades) == (0, 1)
    assert m.win_rate is None
    change = m.end_equity - m.start_equity
    assert m.open_trade_pnl == pytest.approx(change, abs=0.01)
    (trade,) = result_to_dict(result)["trades"]
    assert trade["status"] == "open"
    assert (trade["exit_time"], trade["exit_price"]) == (None, None)
    assert trade["mark_price"] == "2506.850098"  # the sample's last SP500 close
    assert trade["mark_time"] == result.end.isoformat()
    assert float(trade["pnl"]) == pytest.approx(change, abs=0.01)
    assert trade["commission"] == "1.00"


def test_run_takes_the_id_it_is_given_and_otherwise_makes_one(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "buy_and_hold.yaml")
    bt = BacktestConfig(start=date(2010, 1, 1), end=date(2010, 3, 31))
    given = "6f1c2a52-04b1-4c1e-9d0e-0c9a3b5e7f11"
    assert run(config, samples, bt, run_id=given).id == given
    made = run(config, samples, bt).id
    assert len(made) == 32
    assert int(made, 16) >= 0


@pytest.mark.parametrize("timing", ["close", "next_open"])
def test_every_trade_of_a_run_carries_excursions_that_bound_its_move(
    samples: SampleSource, timing: str
) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    result = run(config, samples, BacktestConfig(fill_timing=timing, slippage_bps=5))
    assert result.trades
    for trade in result.trades:
        assert trade.mfe is not None, trade.trade_id
        assert trade.mae is not None, trade.trade_id
        assert trade.mae <= 0 <= trade.mfe
        assert trade.mae <= trade.price_move <= trade.mfe, trade.trade_id
    written = result_to_dict(result)["trades"][0]
    assert {"mfe", "mae", "given_back", "mfe_pct", "mae_value", "given_back_value"} <= set(written)
    assert written["mfe"] == str(result.trades[0].mfe)
    regimes = {t.regime for t in result.trades}
    assert regimes <= {"bull", "bear", "sideways", "high_volatility", None}
    assert len(regimes - {None}) >= 2  # 2000-2018 on the S&P 500 sees more than one


def test_the_report_shows_the_excursion_scatter_and_the_means_of_winners_and_losers(
    samples: SampleSource,
) -> None:
    from quant_backtest.report_html import render_html_report  # noqa: PLC0415

    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    page = render_html_report(run(config, samples, BacktestConfig()))
    assert "<h2>Adverse excursion against return (%)</h2>" in page
    assert "<h2>Trade excursions</h2>" in page
    assert "<th>winners (" in page
    assert "<th>losers (" in page
    assert "<h2>Trades by regime at entry</h2>" in page
