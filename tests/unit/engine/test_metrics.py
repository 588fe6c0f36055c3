"""Golden tests for quant_engine.metrics against empyrical, hand-computed values and formulas."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import empyrical
import numpy as np
import pandas as pd
import pytest

from quant_domain import Trade, TradeDirection
from quant_engine.metrics import (
    compute_metrics,
    drawdown_series,
    monthly_returns,
    periods_per_year,
    probabilistic_sharpe_ratio,
    rolling_sharpe,
)

PPY = 252.0
RF_ANNUAL = 0.03
RF_PERIOD = (1.0 + RF_ANNUAL) ** (1.0 / PPY) - 1.0
T0 = datetime(2024, 1, 2, 15, tzinfo=UTC)

# A fixed, deliberately irregular daily return series (fat-ish tails, a drawdown, a recovery).
GOLDEN_RETURNS = np.array(
    [
        0.012, -0.004, 0.007, -0.021, 0.003, 0.015, -0.009, 0.001, -0.032, 0.018,
        0.006, -0.002, 0.011, -0.013, 0.004, 0.027, -0.008, 0.002, -0.006, 0.009,
        -0.017, 0.005, 0.013, -0.001, 0.008, -0.024, 0.019, 0.003, -0.005, 0.010,
    ]
)  # fmt: skip


def equity_from(returns: np.ndarray, start: float = 100_000.0) -> np.ndarray:
    return start * np.concatenate([[1.0], np.cumprod(1.0 + returns)])


def make_trade(trade_id: str, pnl: str, commission: str = "0", *, closed: bool = True) -> Trade:
    return Trade(
        trade_id=trade_id,
        symbol="AAPL",
        direction=TradeDirection.LONG,
        entry_time=T0,
        quantity=Decimal(10),
        entry_price=Decimal(100),
        exit_time=T0 + timedelta(days=3) if closed else None,
        exit_price=Decimal(100) if closed else None,
        gross_pnl=Decimal(pnl),
        commission=Decimal(commission),
    )


@pytest.fixture
def golden_equity() -> np.ndarray:
    return equity_from(GOLDEN_RETURNS)


# --- ratios against empyrical -------------------------------------------------------------


@pytest.mark.parametrize("rf_annual", [0.0, RF_ANNUAL])
def test_compute_metrics_golden_series_matches_empyrical_ratios(
    golden_equity: np.ndarray, rf_annual: float
) -> None:
    rf_period = (1.0 + rf_annual) ** (1.0 / PPY) - 1.0
    m = compute_metrics(golden_equity, periods_per_year=PPY, risk_free_rate=rf_annual)

    expected_sharpe = empyrical.sharpe_ratio(GOLDEN_RETURNS, risk_free=rf_period)
    expected_sortino = empyrical.sortino_ratio(GOLDEN_RETURNS, required_return=rf_period)
    assert m.sharpe == pytest.approx(expected_sharpe, rel=1e-10)
    assert m.sortino == pytest.approx(expected_sortino, rel=1e-10)


def test_compute_metrics_golden_series_matches_empyrical_return_and_risk(
    golden_equity: np.ndarray,
) -> None:
    m = compute_metrics(golden_equity, periods_per_year=PPY)

    assert m.annual_volatility == pytest.approx(
        empyrical.annual_volatility(GOLDEN_RETURNS), rel=1e-10
    )
    assert m.annual_return == pytest.approx(empyrical.annual_return(GOLDEN_RETURNS), rel=1e-10)
    assert m.annual_return == pytest.approx(empyrical.cagr(GOLDEN_RETURNS), rel=1e-10)
    assert m.max_drawdown_pct == pytest.approx(-empyrical.max_drawdown(GOLDEN_RETURNS), rel=1e-10)
    assert m.calmar == pytest.approx(empyrical.calmar_ratio(GOLDEN_RETURNS), rel=1e-10)
    assert m.total_return == pytest.approx(np.prod(1.0 + GOLDEN_RETURNS) - 1.0, rel=1e-12)


def test_compute_metrics_weekly_annualisation_matches_empyrical(golden_equity: np.ndarray) -> None:
    m = compute_metrics(golden_equity, periods_per_year=52)

    assert m.sharpe == pytest.approx(
        empyrical.sharpe_ratio(GOLDEN_RETURNS, annualization=52), rel=1e-10
    )
    assert m.annual_return == pytest.approx(
        empyrical.annual_return(GOLDEN_RETURNS, annualization=52), rel=1e-10
    )


def test_compute_metrics_hand_sharpe_uses_sample_std_and_per_period_rf() -> None:
    returns = np.array([0.01, -0.02, 0.03])
    m = compute_metrics(equity_from(returns), periods_per_year=PPY, risk_free_rate=RF_ANNUAL)

    mean = (0.01 - 0.02 + 0.03) / 3 - RF_PERIOD
    sample_std = math.sqrt(sum((r - 0.02 / 3) ** 2 for r in (0.01, -0.02, 0.03)) / 2)  # ddof = 1
    assert m.sharpe == pytest.approx(mean / sample_std * math.sqrt(PPY), rel=1e-12)
    downside = math.sqrt(((-0.02 - RF_PERIOD) ** 2) / 3)  # only one period below rf
    assert m.sortino == pytest.approx(mean / downside * math.sqrt(PPY), rel=1e-12)


# --- drawdowns ----------------------------------------------------------------------------


def test_compute_metrics_drawdown_reports_money_percent_and_duration() -> None:
    equity = np.array([100.0, 120.0, 90.0, 110.0, 125.0, 100.0, 115.0])
    m = compute_metrics(equity, periods_per_year=PPY)

    assert m.max_drawdown == pytest.approx(30.0)  # 120 -> 90
    assert m.max_drawdown_pct == pytest.approx(0.25)  # 30 / 120
    # 120 at t=1 recovers at t=4 (3 periods); 125 at t=4 is still under water at t=6 (2).
    assert m.max_drawdown_duration == 3
    assert m.calmar == pytest.approx(m.annual_return / 0.25, rel=1e-12)


def test_compute_metrics_unrecovered_drawdown_duration_runs_to_end() -> None:
    m = compute_metrics(np.array([100.0, 105.0, 104.0, 103.0, 102.0, 101.0]), periods_per_year=PPY)

    assert m.max_drawdown_duration == 4
    assert m.max_drawdown == pytest.approx(4.0)
    assert m.max_drawdown_pct == pytest.approx(4.0 / 105.0)


def test_drawdown_series_is_fraction_below_running_peak() -> None:
    series = drawdown_series(np.array([100.0, 120.0, 90.0, 130.0, 117.0]))

    np.testing.assert_allclose(series, [0.0, 0.0, -0.25, 0.0, -0.1], atol=1e-15)
    assert np.all(series <= 0.0)


# --- trade statistics ---------------------------------------------------------------------


def test_compute_metrics_trades_give_hand_computed_win_rate_and_profit_factor() -> None:
    trades = [
        make_trade("t1", "120", commission="20"),  # net +100, return 100 / 1000 = 0.10
        make_trade("t2", "-40", commission="10"),  # net -50
        make_trade("t3", "310", commission="10"),  # net +300
        make_trade("t4", "-140", commission="10"),  # net -150
        make_trade("t5", "999", closed=False),  # open: ignored
    ]
    m = compute_metrics(np.array([1000.0, 1100.0]), periods_per_year=PPY, trades=trades)

    assert m.num_trades == 4
    assert m.win_rate == pytest.approx(0.5)
    assert m.profit_factor == pytest.approx(400.0 / 200.0)
    assert m.avg_win == pytest.approx(200.0)
    assert m.avg_loss == pytest.approx(-100.0)
    assert m.best_trade == pytest.approx(300.0)
    assert m.worst_trade == pytest.approx(-150.0)
    assert m.avg_trade_return == pytest.approx((0.10 - 0.05 + 0.30 - 0.15) / 4)


def test_compute_metrics_only_winners_profit_factor_is_inf_and_null_in_dict() -> None:
    m = compute_metrics(
        np.array([1000.0, 1100.0]), periods_per_year=PPY, trades=[make_trade("t1", "100")]
    )

    assert m.profit_factor == math.inf
    assert m.avg_loss == 0.0
    assert m.as_dict()["profit_factor"] is None


def test_compute_metrics_only_losers_profit_factor_is_zero() -> None:
    m = compute_metrics(
        np.array([1000.0, 900.0]), periods_per_year=PPY, trades=[make_trade("t1", "-100")]
    )

    assert m.profit_factor == 0.0
    assert m.win_rate == 0.0
    assert m.avg_loss == pytest.approx(-100.0)


def test_compute_metrics_no_closed_trades_gives_no_trade_stats_rather_than_zeros() -> None:
    m = compute_metrics(np.array([1000.0, 1010.0, 1005.0]), periods_per_year=PPY)

    assert (m.num_trades, m.win_rate, m.profit_factor) == (0, None, None)
    assert (m.avg_win, m.avg_loss, m.best_trade, m.worst_trade) == (None, None, None, None)
    assert m.avg_trade_return is None
    assert (m.open_trades, m.open_trade_pnl) == (0, 0.0)
    assert m.as_dict()["win_rate"] is None


def test_compute_metrics_open_trades_are_counted_apart_with_their_marked_pnl() -> None:
    trades = [
        make_trade("t1", "120", commission="20"),  # closed, net +100
        make_trade("t2", "55", commission="5", closed=False),  # open, net +50 at the mark
        make_trade("t3", "-10", commission="1", closed=False),  # open, net -11 at the mark
    ]
    m = compute_metrics(np.array([1000.0, 1139.0]), periods_per_year=PPY, trades=trades)

    assert (m.num_trades, m.win_rate, m.best_trade) == (1, 1.0, pytest.approx(100.0))
    assert m.open_trades == 2
    assert m.open_trade_pnl == pytest.approx(39.0)


def test_compute_metrics_exposure_turnover_fees_follow_inputs() -> None:
    equity = np.array([1000.0, 1000.0, 1000.0, 1000.0, 1000.0])
    m = compute_metrics(
        equity,
        periods_per_year=4.0,
        exposure=np.array([0.0, 0.5, 0.0, 1.2, np.nan]),
        traded_notional=3000.0,
        total_fees=12.5,
    )

    assert m.exposure == pytest.approx(2 / 5)
    assert m.turnover == pytest.approx(3000.0 / 1000.0 / 1.0)  # 4 periods at 4 per year
    assert m.total_fees == 12.5


# --- probabilistic Sharpe ratio -----------------------------------------------------------


def test_compute_metrics_psr_matches_published_formula_with_numpy_moments(
    golden_equity: np.ndarray,
) -> None:
    r = GOLDEN_RETURNS
    n = r.size
    sr = r.mean() / r.std(ddof=1)
    dev = r - r.mean()
    skew = np.mean(dev**3) / np.mean(dev**2) ** 1.5
    kurt = np.mean(dev**4) / np.mean(dev**2) ** 2  # non-excess
    z = sr * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    expected = 0.5 * math.erfc(-z / math.sqrt(2))

    m = compute_metrics(golden_equity, periods_per_year=PPY)

    assert m.psr == pytest.approx(expected, rel=1e-12)
    assert 0.5 < m.psr < 1.0  # positive mean return


def test_probabilistic_sharpe_ratio_known_value() -> None:
    # Returns -1, 0, 1, 2: mean 0.5, sample variance 5/3, skew 0, kurtosis 2.5625 / 1.5625 = 1.64,
    # SR^2 = 0.15, z = SR * sqrt(3) / sqrt(1 + 0.16 * 0.15) = 0.662913, Phi(z) = 0.746307.
    r = np.array([-1.0, 0.0, 1.0, 2.0])
    sr = 0.5 / math.sqrt(5.0 / 3.0)

    assert probabilistic_sharpe_ratio(r, sr) == pytest.approx(0.746307, abs=1e-6)


def test_probabilistic_sharpe_ratio_sharpe_at_benchmark_is_one_half() -> None:
    assert probabilistic_sharpe_ratio(GOLDEN_RETURNS, 0.1, benchmark_sharpe=0.1) == 0.5


# --- edge cases ---------------------------------------------------------------------------


def test_compute_metrics_constant_equity_gives_zero_ratios() -> None:
    m = compute_metrics(np.full(50, 10_000.0), periods_per_year=PPY)

    assert (m.sharpe, m.sortino, m.psr, m.calmar) == (0.0, 0.0, 0.0, 0.0)
    assert (m.total_return, m.annual_return, m.annual_volatility) == (0.0, 0.0, 0.0)
    assert (m.max_drawdown, m.max_drawdown_pct, m.max_drawdown_duration) == (0.0, 0.0, 0)


def test_compute_metrics_constant_positive_returns_sharpe_is_zero_not_huge() -> None:
    m = compute_metrics(equity_from(np.full(40, 0.001)), periods_per_year=PPY)

    assert m.sharpe == 0.0
    assert m.sortino == 0.0  # no downside
    assert m.annual_return == pytest.approx(1.001**PPY - 1.0, rel=1e-10)


def test_compute_metrics_two_points_gives_cagr_and_zero_dispersion_stats() -> None:
    m = compute_metrics(np.array([100.0, 101.0]), periods_per_year=PPY)

    assert m.total_return == pytest.approx(0.01)
    assert m.annual_return == pytest.approx(1.01**PPY - 1.0, rel=1e-12)
    assert (m.annual_volatility, m.sharpe, m.sortino, m.psr) == (0.0, 0.0, 0.0, 0.0)


def test_compute_metrics_steep_short_curve_annual_return_is_inf_not_overflow() -> None:
    m = compute_metrics(np.array([100.0, 150.0]), periods_per_year=252.0 * 390)

    assert m.annual_return == math.inf
    assert m.as_dict()["annual_return"] is None
    assert m.as_dict()["calmar"] == 0.0


def test_compute_metrics_single_point_gives_zero_returns() -> None:
    m = compute_metrics(np.array([5000.0]), periods_per_year=PPY)

    assert (m.start_equity, m.end_equity) == (5000.0, 5000.0)
    assert (m.total_return, m.annual_return, m.turnover) == (0.0, 0.0, 0.0)


def test_compute_metrics_equity_touching_zero_is_total_loss_without_warnings() -> None:
    m = compute_metrics(np.array([100.0, 50.0, 0.0, 0.0]), periods_per_year=PPY)

    assert m.total_return == -1.0
    assert m.annual_return == -1.0
    assert m.max_drawdown_pct == 1.0
    assert m.max_drawdown == 100.0
    assert m.max_drawdown_duration == 3
    assert m.calmar == -1.0
    assert all(v is None or math.isfinite(v) for v in m.as_dict().values())


def test_compute_metrics_bad_equity_raises_value_error() -> None:
    with pytest.raises(ValueError, match="starting equity"):
        compute_metrics(np.array([0.0, 1.0]), periods_per_year=PPY)
    with pytest.raises(ValueError, match="NaN"):
        compute_metrics(np.array([1.0, np.nan]), periods_per_year=PPY)
    with pytest.raises(ValueError, match="non-empty"):
        compute_metrics(np.array([]), periods_per_year=PPY)
    with pytest.raises(ValueError, match="periods_per_year"):
        compute_metrics(np.array([1.0, 2.0]), periods_per_year=0)


def test_metrics_as_dict_is_json_serialisable_with_every_field(golden_equity: np.ndarray) -> None:
    m = compute_metrics(golden_equity, periods_per_year=PPY, trades=[make_trade("t1", "5")])
    data = m.as_dict()

    assert len(data) == len(m.__slots__)
    assert json.loads(json.dumps(data, allow_nan=False))["sharpe"] == pytest.approx(m.sharpe)


# --- rolling Sharpe -----------------------------------------------------------------------


def test_rolling_sharpe_matches_direct_window_computation(golden_equity: np.ndarray) -> None:
    window = 10
    result = rolling_sharpe(golden_equity, window, PPY)

    assert result.shape == (GOLDEN_RETURNS.size,)
    assert np.all(np.isnan(result[: window - 1]))
    for end in range(window - 1, GOLDEN_RETURNS.size):
        chunk = GOLDEN_RETURNS[end - window + 1 : end + 1]
        expected = chunk.mean() / chunk.std(ddof=1) * math.sqrt(PPY)
        assert result[end] == pytest.approx(expected, rel=1e-9)


def test_rolling_sharpe_flat_window_is_zero() -> None:
    result = rolling_sharpe(np.full(8, 100.0), 3, PPY)

    np.testing.assert_array_equal(result[2:], np.zeros(5))


def test_rolling_sharpe_window_below_two_raises() -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_sharpe(np.ones(5), 1, PPY)


# --- monthly returns ----------------------------------------------------------------------


def test_monthly_returns_compounds_within_each_month() -> None:
    index = pd.DatetimeIndex(
        ["2024-01-02", "2024-01-15", "2024-01-31", "2024-02-10", "2024-02-28", "2024-04-05"],
        tz="UTC",
    )
    equity = pd.Series([100.0, 110.0, 99.0, 108.9, 118.8, 112.86], index=index)

    table = monthly_returns(equity)

    assert [int(c) for c in table.columns] == list(range(1, 13))
    assert [int(y) for y in table.index] == [2024]
    jan, feb, mar, apr, *rest = table.loc[2024].to_numpy(dtype=np.float64)
    assert jan == pytest.approx(99.0 / 100.0 - 1.0)  # +10 % then -10 % compounds to -1 %
    assert feb == pytest.approx(118.8 / 99.0 - 1.0)
    assert math.isnan(mar)  # no data in March
    assert apr == pytest.approx(112.86 / 118.8 - 1.0)  # from the last value seen (February)
    assert all(math.isnan(v) for v in rest)


def test_monthly_returns_product_equals_total_return(golden_equity: np.ndarray) -> None:
    index = pd.date_range("2023-12-01", periods=golden_equity.size, freq="B", tz="UTC")
    table = monthly_returns(pd.Series(golden_equity, index=index))

    compounded = float(np.prod(1.0 + table.stack().dropna().to_numpy()))
    assert compounded == pytest.approx(golden_equity[-1] / golden_equity[0], rel=1e-12)
    assert list(table.index) == [2023, 2024]


# --- periods per year ---------------------------------------------------------------------


def test_periods_per_year_business_days_is_252() -> None:
    index = pd.date_range("2024-01-01", periods=300, freq="B", tz="UTC")
    assert periods_per_year(index) == 252.0


def test_periods_per_year_calendar_days_with_weekends_is_365() -> None:
    index = pd.date_range("2024-01-01", periods=200, freq="D", tz="UTC")
    assert periods_per_year(index) == 365.0


def test_periods_per_year_weekly_is_52() -> None:
    index = pd.date_range("2024-01-05", periods=60, freq="W-FRI", tz="UTC")
    assert periods_per_year(index) == 52.0


def test_periods_per_year_monthly_is_12() -> None:
    index = pd.date_range("2020-01-31", periods=36, freq="ME", tz="UTC")
    assert periods_per_year(index) == 12.0


def test_periods_per_year_hourly_24x7_over_long_span_counts_bars_per_year() -> None:
    index = pd.date_range("2024-01-01", periods=24 * 90, freq="h", tz="UTC")
    assert periods_per_year(index) == pytest.approx(24 * 365.25)


def test_periods_per_year_hourly_session_bars_over_short_span_scales_by_252() -> None:
    # 7 hourly bars per weekday session (14:30..20:30 UTC) over two weeks.
    days = pd.bdate_range("2024-03-04", periods=10, tz="UTC")
    index = pd.DatetimeIndex(
        [
            d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(hours=h)
            for d in days
            for h in range(7)
        ]
    )
    assert periods_per_year(index) == pytest.approx(7 * 252)


def test_periods_per_year_single_timestamp_defaults_to_252() -> None:
    assert periods_per_year(pd.DatetimeIndex([T0])) == 252.0
