"""Golden tests for quant_engine.overfitting against hand-worked values from the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quant_engine.metrics import probabilistic_sharpe_ratio
from quant_engine.overfitting import (
    READ_DEGRADATION,
    READ_DSR,
    READ_PBO,
    column_sharpe,
    deflated_sharpe_ratio,
    degradation,
    efficiency_ratio,
    expected_max_sharpe,
    inverse_normal_cdf,
    probability_of_backtest_overfitting,
)

GAMMA = 0.5772156649015329

# Daily returns of a "chosen" configuration, for the worked DSR example.
CHOSEN_RETURNS = np.array(
    [0.021, -0.008, 0.013, 0.004, -0.015, 0.027, 0.009, -0.003, 0.018, -0.011, 0.006, 0.012]
)
# Per-period Sharpe of the 8 configurations tried (the search that produced CHOSEN_RETURNS).
TRIAL_SHARPES = [0.10, 0.25, -0.05, 0.40, 0.15, 0.05, 0.30, 0.20]

# T=4 periods × N=3 trials; with S=2 the blocks are rows 0-1 and rows 2-3. In units of 0.01,
# a two-row block (a, b) has Sharpe (a + b) / 2 / (|a - b| / √2) = s / √2 with s = (a+b)/|a-b|:
#        block 0 (rows 0-1)     block 1 (rows 2-3)
#   A    (3, 1)  s = 2          (-1, -3) s = -2
#   B    (1, 0)  s = 1          (2, 1)   s = 3
#   C    (1, -1) s = 0          (3, 1)   s = 2
HAND_MATRIX = np.array(
    [
        [0.03, 0.01, 0.01],
        [0.01, 0.00, -0.01],
        [-0.01, 0.02, 0.03],
        [-0.03, 0.01, 0.01],
    ]
)


def bisect_normal_quantile(p: float) -> float:
    """Φ⁻¹(p) by bisection on Φ(x) = (1 + erf(x / √2)) / 2, independent of the module's method."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * (1.0 + math.erf(mid / math.sqrt(2.0))) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# --- inverse normal CDF -------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1e-6, 0.025, 0.5, 0.9, 0.999999])
def test_inverse_normal_cdf_known_probabilities_match_bisection_to_1e10(p: float) -> None:
    assert inverse_normal_cdf(p) == pytest.approx(bisect_normal_quantile(p), abs=1e-10)


def test_inverse_normal_cdf_textbook_quantiles_match_tables() -> None:
    assert inverse_normal_cdf(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert inverse_normal_cdf(0.5) == 0.0
    assert inverse_normal_cdf(0.05) == pytest.approx(-1.6448536269514722, abs=1e-12)


def test_inverse_normal_cdf_upper_half_mirrors_lower_half() -> None:
    for p in (1e-9, 0.001, 0.02425, 0.2, 0.4999):
        upper = 1.0 - p
        mirrored = 1.0 - upper  # exact in floating point, unlike p itself
        assert inverse_normal_cdf(upper) == pytest.approx(-inverse_normal_cdf(mirrored), abs=1e-12)


def test_inverse_normal_cdf_deep_tail_stays_finite_and_ordered() -> None:
    # Φ(-37.0471) ≈ 1e-300; erfc keeps the tail relative, so the Halley step still converges.
    assert inverse_normal_cdf(1e-300) == pytest.approx(-37.04710, abs=1e-4)
    assert inverse_normal_cdf(1e-300) < inverse_normal_cdf(1e-200) < inverse_normal_cdf(1e-6)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_inverse_normal_cdf_outside_open_unit_interval_raises(p: float) -> None:
    with pytest.raises(ValueError, match="0 < p < 1"):
        inverse_normal_cdf(p)


# --- expected maximum Sharpe --------------------------------------------------------------------


def test_expected_max_sharpe_ten_trials_unit_variance_matches_hand_value() -> None:
    # Φ⁻¹(1 - 1/10) = 1.2815516, Φ⁻¹(1 - 1/(10e)) = Φ⁻¹(0.9632121) = 1.7892418;
    # (1 - γ) · 1.2815516 + γ · 1.7892418 = 0.5418259 + 1.0327725 = 1.5745983.
    by_hand = (1 - GAMMA) * bisect_normal_quantile(0.9) + GAMMA * bisect_normal_quantile(
        1 - 1 / (10 * math.e)
    )
    assert by_hand == pytest.approx(1.5745983013, abs=1e-9)
    assert expected_max_sharpe(10, 1.0) == pytest.approx(by_hand, abs=1e-10)


def test_expected_max_sharpe_hundred_trials_scales_with_root_variance() -> None:
    # Φ⁻¹(0.99) = 2.3263479, Φ⁻¹(1 - 1/(100e)) = 2.6802104; the bracket is 2.5306029.
    bracket = (1 - GAMMA) * bisect_normal_quantile(0.99) + GAMMA * bisect_normal_quantile(
        1 - 1 / (100 * math.e)
    )
    assert bracket == pytest.approx(2.5306028932, abs=1e-9)
    assert expected_max_sharpe(100, 0.5) == pytest.approx(math.sqrt(0.5) * bracket, abs=1e-10)
    assert expected_max_sharpe(100, 0.5) == pytest.approx(1.7894064663, abs=1e-9)
    assert expected_max_sharpe(100, 2.0) == pytest.approx(2 * expected_max_sharpe(100, 0.5))


def test_expected_max_sharpe_single_trial_or_zero_variance_is_zero() -> None:
    assert expected_max_sharpe(1, 4.0) == 0.0
    assert expected_max_sharpe(50, 0.0) == 0.0


def test_expected_max_sharpe_more_trials_raise_the_bar() -> None:
    bars = [expected_max_sharpe(n, 1.0) for n in (2, 5, 10, 100, 1000, 10_000)]
    assert bars == sorted(bars)
    assert len(set(bars)) == len(bars)


@pytest.mark.parametrize(
    ("n_trials", "variance", "match"),
    [(0, 1.0, "n_trials"), (5, -0.1, "sharpe_variance"), (5, math.inf, "sharpe_variance")],
)
def test_expected_max_sharpe_invalid_inputs_raise(
    n_trials: int, variance: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        expected_max_sharpe(n_trials, variance)


# --- deflated Sharpe ratio ----------------------------------------------------------------------


def test_deflated_sharpe_ratio_worked_example_matches_formula_by_hand() -> None:
    r = CHOSEN_RETURNS
    t = r.size  # 12
    sr = np.mean(r) / np.std(r, ddof=1)  # 0.0060833 / 0.0131941 = 0.4610659
    centred = r - np.mean(r)
    m2 = np.mean(centred**2)
    skew = np.mean(centred**3) / m2**1.5  # -0.1316142
    kurt = np.mean(centred**4) / m2**2  # 1.9425526 (non-excess)
    v = np.var(TRIAL_SHARPES, ddof=1)  # 0.0207143
    n = len(TRIAL_SHARPES)  # 8
    # SR0 = √V ((1-γ) Φ⁻¹(7/8) + γ Φ⁻¹(1 - 1/(8e))) = 0.1439246 · (0.4863 + 0.9727) = 0.2099880
    sr0 = math.sqrt(v) * (
        (1 - GAMMA) * bisect_normal_quantile(1 - 1 / n)
        + GAMMA * bisect_normal_quantile(1 - 1 / (n * math.e))
    )
    # z = (0.4610659 - 0.2099880) √11 / √(1 + 0.1316142 · 0.4610659 + 0.9425526/4 · 0.4610659²)
    #   = 0.8327313 / 1.0539332 = 0.7901177;  DSR = Φ(0.7901177) = 0.7852705
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    expected = normal_cdf(z)
    assert sr0 == pytest.approx(0.2099879933, abs=1e-9)
    assert expected == pytest.approx(0.7852704755, abs=1e-9)

    result = deflated_sharpe_ratio(r, TRIAL_SHARPES)

    assert result.dsr == pytest.approx(expected, abs=1e-12)
    assert result.sharpe == pytest.approx(0.4610659146, abs=1e-9)
    assert result.benchmark_sharpe == pytest.approx(sr0, abs=1e-12)
    assert result.skew == pytest.approx(skew, abs=1e-12)
    assert result.kurtosis == pytest.approx(kurt, abs=1e-12)
    assert (result.n_trials, result.n_obs) == (8, 12)


def test_deflated_sharpe_ratio_single_trial_equals_psr_against_zero() -> None:
    result = deflated_sharpe_ratio(CHOSEN_RETURNS, [0.46])
    psr = probabilistic_sharpe_ratio(CHOSEN_RETURNS, result.sharpe, 0.0)
    assert result.benchmark_sharpe == 0.0
    assert result.dsr == pytest.approx(psr, abs=1e-15)
    assert result.dsr == pytest.approx(0.9266002345, abs=1e-9)


def test_deflated_sharpe_ratio_no_trials_uses_zero_benchmark() -> None:
    result = deflated_sharpe_ratio(CHOSEN_RETURNS, [])
    assert (result.n_trials, result.benchmark_sharpe) == (0, 0.0)
    assert result.dsr == pytest.approx(0.9266002345, abs=1e-9)


def test_deflated_sharpe_ratio_more_trials_lower_the_probability() -> None:
    rng = np.random.default_rng(7)
    dsrs = []
    for n in (2, 10, 100, 1000):
        draws = rng.normal(size=n)
        # The same sample spread (0.05) for every N, so only the number of trials changes.
        trials = (draws - draws.mean()) / draws.std(ddof=1) * 0.05
        result = deflated_sharpe_ratio(CHOSEN_RETURNS, trials.tolist())
        assert result.benchmark_sharpe == pytest.approx(expected_max_sharpe(n, 0.0025))
        dsrs.append(result.dsr)
    assert dsrs == sorted(dsrs, reverse=True)
    assert dsrs[0] > dsrs[-1] + 0.05


def test_deflated_sharpe_ratio_flat_returns_give_zero_without_warnings() -> None:
    result = deflated_sharpe_ratio(np.full(50, 0.001), TRIAL_SHARPES)
    assert (result.dsr, result.sharpe, result.skew, result.kurtosis) == (0.0, 0.0, 0.0, 3.0)
    assert result.n_obs == 50


def test_deflated_sharpe_ratio_fewer_than_three_returns_gives_zero() -> None:
    two = deflated_sharpe_ratio(np.array([0.01, 0.03]), TRIAL_SHARPES)
    assert two.dsr == 0.0
    assert two.sharpe == pytest.approx(0.02 / (0.02 / math.sqrt(2)))
    assert (two.skew, two.kurtosis, two.n_obs) == (0.0, 3.0, 2)
    empty = deflated_sharpe_ratio(np.array([]), TRIAL_SHARPES)
    assert (empty.dsr, empty.sharpe, empty.n_obs) == (0.0, 0.0, 0)


def test_deflated_sharpe_ratio_non_finite_inputs_raise() -> None:
    with pytest.raises(ValueError, match="finite"):
        deflated_sharpe_ratio(np.array([0.01, math.nan, 0.02]), TRIAL_SHARPES)
    with pytest.raises(ValueError, match="finite"):
        deflated_sharpe_ratio(CHOSEN_RETURNS, [0.1, math.inf])
    with pytest.raises(ValueError, match="1-D"):
        deflated_sharpe_ratio(np.ones((3, 2)), TRIAL_SHARPES)


# --- probability of backtest overfitting --------------------------------------------------------


def test_pbo_hand_matrix_two_combinations_match_hand_ranks() -> None:
    # Combination 1, IS = block 0: Sharpes A 2/√2, B 1/√2, C 0 -> pick A. OOS block 1:
    #   A -2/√2, B 3/√2, C 2/√2 -> A ranks 1 of 3, ω = 1/4, λ = ln(1/3) = -1.0986.
    # Combination 2, IS = block 1: A -2/√2, B 3/√2, C 2/√2 -> pick B. OOS block 0:
    #   A 2/√2, B 1/√2, C 0 -> B ranks 2 of 3, ω = 2/4, λ = ln(1) = 0 -> counts as overfit.
    result = probability_of_backtest_overfitting(HAND_MATRIX, n_splits=2)

    assert result.logits == pytest.approx((math.log(1 / 3), 0.0), abs=1e-12)
    assert result.pbo == 1.0
    assert (result.n_combinations, result.n_splits, result.n_trials) == (2, 2, 3)
    # Chosen (IS, OOS) points: (2/√2, -2/√2) and (3/√2, 1/√2): slope 3, intercept -4√2.
    assert result.performance_degradation.slope == pytest.approx(3.0, abs=1e-12)
    assert result.performance_degradation.intercept == pytest.approx(-4 * math.sqrt(2), abs=1e-12)
    assert result.prob_oos_loss == 0.5


def test_pbo_tied_trials_average_ranks_and_lowest_column_wins_is_tie() -> None:
    # A and B identical: block 0 s = 2, block 1 s = 1; C: block 0 s = 0, block 1 s = 3.
    # Combination 1 (IS block 0): A and B tie at 2/√2, A (lower column) is picked; OOS block 1:
    #   A = B = 1/√2 < C -> ranks 1 and 2 averaged to 1.5, ω = 1.5/4, λ = ln(0.6) = -0.5108.
    # Combination 2 (IS block 1): C is picked; OOS block 0: C is last, λ = ln(1/3).
    matrix = np.array(
        [
            [0.03, 0.03, 0.01],
            [0.01, 0.01, -0.01],
            [0.01, 0.01, 0.02],
            [0.00, 0.00, 0.01],
        ]
    )
    result = probability_of_backtest_overfitting(matrix, n_splits=2)
    assert result.logits == pytest.approx((math.log(0.6), math.log(1 / 3)), abs=1e-12)
    assert result.pbo == 1.0


def test_pbo_custom_metric_changes_the_pick_and_flat_is_gives_zero_slope() -> None:
    # Mean return per block: A .02 / -.02, B .005 / .015, C 0 / .02. Combination 1 picks A
    # (OOS -.02, last), combination 2 picks C (OOS 0, last): both λ = ln(1/3). The chosen IS
    # means are both .02, so the fit has no spread: slope 0, intercept mean OOS = -0.01.
    result = probability_of_backtest_overfitting(
        HAND_MATRIX, n_splits=2, metric=lambda m: m.mean(axis=0)
    )
    assert result.logits == pytest.approx((math.log(1 / 3), math.log(1 / 3)), abs=1e-12)
    assert result.performance_degradation.slope == 0.0
    assert result.performance_degradation.intercept == pytest.approx(-0.01, abs=1e-15)
    assert result.prob_oos_loss == 0.5


def test_pbo_rows_not_divisible_by_splits_drops_earliest_rows() -> None:
    padded = np.vstack([[9.0, -9.0, 5.0], HAND_MATRIX])
    assert probability_of_backtest_overfitting(padded, 2) == probability_of_backtest_overfitting(
        HAND_MATRIX, 2
    )


def test_pbo_default_sharpe_matches_generic_metric_path() -> None:
    def sharpe_called_per_split(matrix: np.ndarray) -> np.ndarray:
        # Not the default function object, so the per-combination path runs.
        return column_sharpe(matrix)

    rng = np.random.default_rng(3)
    matrix = rng.normal(0.0002, 0.01, size=(240, 6))
    fast = probability_of_backtest_overfitting(matrix, n_splits=6)
    generic = probability_of_backtest_overfitting(matrix, 6, metric=sharpe_called_per_split)
    assert fast.n_combinations == generic.n_combinations == 20
    assert fast.logits == pytest.approx(generic.logits, abs=1e-12)
    assert fast.pbo == generic.pbo
    assert fast.performance_degradation.slope == pytest.approx(
        generic.performance_degradation.slope, abs=1e-9
    )


def test_pbo_pure_noise_trials_is_near_one_half() -> None:
    rng = np.random.default_rng(2)
    result = probability_of_backtest_overfitting(rng.normal(0, 0.01, size=(1000, 50)), 10)
    assert result.n_combinations == 252  # C(10, 5)
    assert 0.25 < result.pbo < 0.75
    assert result.pbo == pytest.approx(116 / 252)


def test_pbo_one_trial_with_edge_in_every_block_is_near_zero() -> None:
    rng = np.random.default_rng(11)
    matrix = rng.normal(0, 0.01, size=(1000, 20))
    matrix[:, 7] += 0.004  # per-period Sharpe ≈ 0.4 against noise trials near 0
    result = probability_of_backtest_overfitting(matrix, 10)
    assert result.pbo < 0.1
    assert result.prob_oos_loss == 0.0
    assert min(result.logits) > 0


def test_column_sharpe_flat_column_is_zero() -> None:
    matrix = np.array([[0.01, 0.02], [0.01, 0.00], [0.01, 0.01]])
    assert column_sharpe(matrix).tolist() == pytest.approx([0.0, 0.01 / 0.01])


@pytest.mark.parametrize(
    ("shape", "n_splits", "match"),
    [
        ((40, 3), 3, "even"),
        ((40, 3), 0, "even"),
        ((40, 1), 4, "trial columns"),
        ((7, 3), 4, "needs >= 8"),
        ((40,), 4, "2-D"),
    ],
)
def test_pbo_invalid_inputs_raise_naming_the_problem(
    shape: tuple[int, ...], n_splits: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        probability_of_backtest_overfitting(np.zeros(shape), n_splits)


def test_pbo_non_finite_performance_raises() -> None:
    matrix = HAND_MATRIX.copy()
    matrix[1, 2] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        probability_of_backtest_overfitting(matrix, 2)


def test_pbo_metric_with_wrong_shape_raises() -> None:
    with pytest.raises(ValueError, match="3 finite scores"):
        probability_of_backtest_overfitting(HAND_MATRIX, 2, metric=lambda m: m.mean(axis=1))


# --- walk-forward degradation -------------------------------------------------------------------


def test_degradation_per_window_is_oos_minus_is() -> None:
    assert degradation([1.2, 0.8, 1.0], [0.6, 0.9, -0.2]) == pytest.approx([-0.6, 0.1, -1.2])


def test_efficiency_ratio_is_mean_oos_over_mean_is() -> None:
    # mean IS = 1.0, mean OOS = 1.3 / 3 = 0.4333
    assert efficiency_ratio([1.2, 0.8, 1.0], [0.6, 0.9, -0.2]) == pytest.approx(1.3 / 3)


def test_efficiency_ratio_zero_mean_in_sample_or_no_windows_is_zero() -> None:
    assert efficiency_ratio([1.0, -1.0], [0.5, 0.5]) == 0.0
    assert efficiency_ratio([], []) == 0.0


def test_degradation_and_efficiency_mismatched_windows_raise() -> None:
    with pytest.raises(ValueError, match="one IS and one OOS"):
        degradation([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="one IS and one OOS"):
        efficiency_ratio([1.0], [1.0, 2.0])


def test_reading_guides_are_single_sentences_naming_their_statistic() -> None:
    for guide, name in ((READ_DSR, "DSR"), (READ_PBO, "PBO"), (READ_DEGRADATION, "efficiency")):
        assert name in guide
        assert guide.endswith(".")
        assert guide.count(". ") == 0
