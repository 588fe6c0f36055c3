"""Headline figures: one run's own curve and metrics, never a sum (ADR 0018)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from quant_api.performance import (
    BENCHMARK_CLASS,
    curve_figures,
    is_benchmark,
    own_periods_per_year,
    plain,
    stored_figures,
    window,
)
from quant_api.schemas.v1.metrics import Period
from quant_api.schemas.v1.strategies import HeadlineBasis, RunBrief
from quant_db.schema.runs import RunStatus, RunType

START = datetime(2024, 1, 1, tzinfo=UTC)


def _brief(metrics: dict[str, object]) -> RunBrief:
    return RunBrief(
        id=uuid.uuid4(),
        basis=HeadlineBasis.LATEST_COMPLETED,
        type=RunType.BACKTEST,
        status=RunStatus.COMPLETED,
        finished_at=None,
        label=None,
        params={},
        capital=None,
        metrics=metrics,
    )


def test_plain_drops_a_positive_exponent_and_keeps_fractions() -> None:
    assert str(plain(Decimal("1.0E+5"))) == "100000"
    assert str(plain(Decimal("3E+4"))) == "30000"
    assert str(plain(Decimal("123.45"))) == "123.45"


def test_only_the_builtin_buy_and_hold_class_is_a_benchmark() -> None:
    assert is_benchmark(BENCHMARK_CLASS)
    assert not is_benchmark("quant_strategy.builtin.momentum:SmaCrossover")
    assert not is_benchmark("my_strategies.hold:BuyAndHold")


def test_stored_figures_are_used_only_when_the_run_stored_them_all() -> None:
    complete = {
        "start_equity": 100_000.0,
        "end_equity": 125_000.0,
        "total_return": 0.25,
        "sharpe": 1.2,
        "max_drawdown_pct": 0.1,
    }
    figures = stored_figures(_brief(complete))
    assert figures is not None
    assert (figures.end_equity - figures.start_equity, figures.sharpe) == (Decimal(25_000), 1.2)
    assert stored_figures(_brief({**complete, "sharpe": None})) is None
    assert stored_figures(_brief({**complete, "sharpe": "1.2"})) is None


def test_a_window_is_annualised_with_the_runs_own_periods_per_year() -> None:
    series = [(START + timedelta(days=i), Decimal(v)) for i, v in enumerate([100, 102, 101, 104])]
    daily, crypto = curve_figures(series, 252), curve_figures(series, 365)
    assert math.isclose(crypto.sharpe / daily.sharpe, math.sqrt(365 / 252))
    assert math.isclose(daily.total_return, 0.04)
    assert own_periods_per_year(_brief({"periods_per_year": 52.0}), series) == 52.0
    # nothing stored: what the bars imply (every day with weekends: 365; weekdays only: 252)
    every_day = [(START + timedelta(days=i), Decimal(100)) for i in range(8)]
    assert own_periods_per_year(_brief({}), every_day) == 365.0
    assert own_periods_per_year(_brief({}), series) == 252.0  # Monday to Thursday


def test_the_window_starts_at_the_last_point_at_or_before_its_cutoff() -> None:
    series = [(START + timedelta(days=i), Decimal(i)) for i in range(10)]
    assert window(series, Period.WEEK)[0][0] == START + timedelta(days=2)
    assert window(series, Period.ALL) == series
    assert window([], Period.DAY) == []
