"""too_many_digits refuses exactly the floats that are not a decimal of at most 15 digits."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quant_ingestion.precision import too_many_digits


def test_quoted_prices_pass_and_long_or_noisy_ones_are_flagged() -> None:
    quoted = [1228.099976, 0.0001, 1e15, 999999999999999.0, 3e9]
    noisy = [
        0.1 + 0.2,
        10.123456789012346,
        1234567890123456.0,
        999.9999999999999,
        1.2345678901234567e-12,
    ]
    values = np.array([*quoted, *noisy])
    flagged = too_many_digits(values)
    assert flagged.tolist() == [False] * 5 + [True] * 5


def test_missing_zero_and_infinite_values_are_left_to_other_checks() -> None:
    assert not too_many_digits(np.array([np.nan, 0.0, np.inf, -np.inf])).any()


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_matches_formatting_with_15_significant_digits(value: float) -> None:
    expected = value != 0 and float(f"{value:.15g}") != value
    assert bool(too_many_digits(np.array([value]))[0]) == expected


@given(st.integers(1, 10**15 - 1), st.integers(-20, 20))
def test_every_decimal_of_at_most_15_digits_passes(digits: int, exponent: int) -> None:
    value = float(f"{digits}e{exponent}")
    assert not too_many_digits(np.array([value, -value])).any()
