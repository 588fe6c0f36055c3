"""Incremental indicators agree with their vectorised twins and with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from quant_features import (
    BollingerBands,
    RelativeStrengthIndex,
    SimpleMovingAverage,
    bollinger,
    momentum,
    rsi,
    sma,
)

PRICES = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 2_000)))


def _feed(indicator: object, values: np.ndarray) -> np.ndarray:
    out = []
    for v in values:
        got = indicator.update(float(v))  # type: ignore[attr-defined]
        out.append(np.nan if got is None else got)
    return np.asarray(out)


@pytest.mark.parametrize("period", [1, 2, 5, 50])
def test_sma_incremental_matches_vectorised(period: int) -> None:
    np.testing.assert_allclose(
        _feed(SimpleMovingAverage(period), PRICES), sma(PRICES, period), rtol=1e-12
    )


def test_sma_hand_example() -> None:
    assert _feed(SimpleMovingAverage(3), np.array([1.0, 2.0, 3.0, 4.0]))[2:].tolist() == [2.0, 3.0]


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_incremental_matches_vectorised(period: int) -> None:
    np.testing.assert_allclose(
        _feed(RelativeStrengthIndex(period), PRICES), rsi(PRICES, period), rtol=1e-10
    )


def test_rsi_hand_example_wilder_seed_then_smoothing() -> None:
    # changes: +1, +1, -1, +2 ; period 2 -> seed avg gain (1+1)/2=1, loss 0 -> 100
    values = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
    out = rsi(values, 2)
    assert np.isnan(out[:2]).all()
    assert out[2] == 100.0
    # step 3: gain=(1*1+0)/2=0.5, loss=(0*1+1)/2=0.5 -> 50
    assert out[3] == pytest.approx(50.0)
    # step 4: gain=(0.5+2)/2=1.25, loss=(0.5+0)/2=0.25 -> 100-100/(1+5)
    assert out[4] == pytest.approx(100 - 100 / 6)


def test_rsi_all_flat_is_neutral() -> None:
    assert rsi(np.full(10, 5.0), 3)[-1] == 50.0


def test_bollinger_incremental_matches_vectorised() -> None:
    bands = BollingerBands(20, 2.0)
    lower, middle, upper = bollinger(PRICES, 20, 2.0)
    for i, price in enumerate(PRICES):
        ready = bands.update(float(price))
        assert ready == (i >= 19)
        if ready:
            assert bands.middle == pytest.approx(middle[i], rel=1e-12)
            assert bands.upper == pytest.approx(upper[i], rel=1e-12)
            assert bands.lower == pytest.approx(lower[i], rel=1e-12)


def test_momentum_simple_return() -> None:
    out = momentum(np.array([1.0, 2.0, 4.0]), 1)
    assert np.isnan(out[0])
    assert out[1:].tolist() == [1.0, 1.0]


def test_sma_rejects_bad_period() -> None:
    with pytest.raises(ValueError, match="period"):
        SimpleMovingAverage(0)
