"""Compiled indicator twins equal the incremental ones bit for bit; the SMA cache stays bounded."""

from __future__ import annotations

import numpy as np
import pytest

from quant_features import SimpleMovingAverage, ratio_targets, sma_running, sma_running_cached
from quant_features.compiled import _SMA_CACHE, _SmaCache, clear_sma_cache

PRICES = 1000 + np.cumsum(np.random.default_rng(4).normal(0, 1, 210_000))


def test_sma_running_equals_incremental_bit_for_bit_across_resums() -> None:
    incremental = SimpleMovingAverage(37)
    expected = np.array(
        [np.nan if (v := incremental.update(float(x))) is None else v for x in PRICES]
    )
    # 210,000 values cross the periodic re-sum at 100,000 and 200,000
    assert np.array_equal(sma_running(PRICES, 37), expected, equal_nan=True)


def test_ratio_targets_long_above_entry_below_exit_and_keep_between() -> None:
    fast = np.array([np.nan, 1.02, 0.97, 1.005, 0.995])
    slow = np.ones(5)
    out = ratio_targets(fast, slow, 0.01, 0.01, -1.0)
    assert np.isnan(out[0])
    assert out[1:3].tolist() == [1.0, -1.0]
    assert np.isnan(out[3:]).all()


def test_sma_cache_returns_same_read_only_result_and_recomputes_after_clear() -> None:
    clear_sma_cache()
    first = sma_running_cached(PRICES, 20)
    assert sma_running_cached(PRICES, 20) is first
    assert not first.flags.writeable
    clear_sma_cache()
    again = sma_running_cached(PRICES, 20)
    assert again is not first
    assert np.array_equal(again, first, equal_nan=True)
    assert _SMA_CACHE.bytes == again.nbytes


def test_sma_cache_evicts_oldest_beyond_its_byte_budget() -> None:
    cache = _SmaCache(max_bytes=3 * PRICES.nbytes)
    for period in (5, 6, 7, 8):
        cache.get(PRICES, period)
    assert [key[2] for key in cache.entries] == [6, 7, 8]
    assert cache.bytes == 3 * PRICES.nbytes


def test_sma_running_rejects_bad_period() -> None:
    with pytest.raises(ValueError, match="period"):
        sma_running(PRICES, 0)
