"""Out-of-sample scores of a model's strategy: purged walk-forward, CPCV paths, DSR and PBO.

The strategy is the simplest one a probability gives: long when P(up) >= upper, short (in
`long_short` mode) when P(up) <= lower, flat otherwise; each sample earns its position times the
return over its label window, and the samples of one date are averaged (an equal-weight book).
Sharpe ratios are per period (one period per date); a date's return spans the label's horizon,
so consecutive dates overlap and the annualisation counts horizons, not dates, per year.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from quant_engine.metrics import periods_per_year, sharpe_per_period
from quant_engine.overfitting import deflated_sharpe_ratio, probability_of_backtest_overfitting
from quant_models.base import TradingModel
from quant_models.dataset import TrainingSet
from quant_models.errors import ModelError
from quant_models.splits import CombinatorialPurgedCV, Fold, PurgedWalkForward, date_groups

ModelFactory = Callable[[], TradingModel]


class Thresholds(BaseModel):
    """Probability thresholds turning P(up) into a position."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["long_flat", "long_short"] = "long_flat"
    upper: float = Field(default=0.55, gt=0, lt=1)
    lower: float = Field(default=0.45, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.lower > self.upper:
            raise ValueError(f"lower ({self.lower}) must not exceed upper ({self.upper})")
        return self

    def positions(self, probabilities: np.ndarray) -> np.ndarray:
        prob = np.asarray(probabilities, dtype=np.float64)
        out = np.where(prob >= self.upper, 1.0, 0.0)
        if self.mode == "long_short":
            out = np.where(prob <= self.lower, -1.0, out)
        return out


def strategy_returns(
    data: TrainingSet, rows: np.ndarray, probabilities: np.ndarray, thresholds: Thresholds
) -> pd.Series:
    """The book's return per date over `rows`, given the model's probability for each row."""
    earned = thresholds.positions(probabilities) * data.ret.to_numpy()[rows]
    dates = pd.DatetimeIndex(data.t0[rows], tz="UTC")
    return pd.Series(earned, index=dates).groupby(level=0).mean()


@dataclass(frozen=True, slots=True)
class FoldScore:
    """One split's out-of-sample figures."""

    test_groups: tuple[int, ...]
    n_train: int
    n_test: int
    purged: int
    embargoed: int
    start: str
    end: str
    sharpe: float
    """Annualised Sharpe of the book over the test dates."""
    hit_rate: float
    """Share of test rows whose predicted side (P >= 0.5) matched the label."""


@dataclass(frozen=True)
class WalkForwardResult:
    folds: list[FoldScore]
    returns: pd.Series
    """The book's return per out-of-sample date, all folds in time order."""
    probabilities: pd.Series
    """Out-of-sample P(up) per tested row (row position in the training set -> probability)."""
    annualisation: float

    @property
    def sharpe(self) -> float:
        return sharpe_per_period(self.returns.to_numpy()) * math.sqrt(self.annualisation)


@dataclass(frozen=True)
class CPCVResult:
    folds: list[FoldScore]
    path_sharpes: list[float]
    """Annualised Sharpe of each complete out-of-sample path."""
    annualisation: float

    def summary(self) -> dict[str, float]:
        values = np.asarray(self.path_sharpes)
        return {
            "paths": float(values.size),
            "mean": float(values.mean()),
            "median": float(np.median(values)),
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "p05": float(np.quantile(values, 0.05)),
            "share_positive": float(np.mean(values > 0)),
        }


def annualisation(data: TrainingSet) -> float:
    """Non-overlapping label horizons per year: periods per year over the median horizon, in
    dates (a 5-day label on daily rows: 252 / 5). Annualising overlapping horizon returns by the
    dates alone would inflate the Sharpe by about the square root of the horizon."""
    dates = np.unique(data.t0)
    per_year = periods_per_year(pd.DatetimeIndex(dates))
    ends = pd.to_datetime(data.t1, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    spans = np.searchsorted(dates, ends) - np.searchsorted(dates, data.t0)
    return per_year / max(float(np.median(spans)), 1.0)


def _fit_predict(
    make_model: ModelFactory, data: TrainingSet, fold: Fold
) -> tuple[np.ndarray, float]:
    if fold.train.size == 0:
        raise ModelError(
            f"split testing group(s) {fold.test_groups} has no training rows left after "
            "purging; use fewer groups, a shorter embargo or more data"
        )
    train = data.rows(fold.train)
    model = make_model().fit(train.X, train.y, train.weight)
    probabilities = model.predict(data.X.iloc[fold.test])
    labels = data.y.to_numpy()[fold.test]
    hit = float(np.mean((probabilities >= 0.5) == (labels == 1)))
    return probabilities, hit


def _score(
    data: TrainingSet, fold: Fold, returns: pd.Series, hit: float, annualisation: float
) -> FoldScore:
    return FoldScore(
        test_groups=fold.test_groups,
        n_train=int(fold.train.size),
        n_test=int(fold.test.size),
        purged=fold.purged,
        embargoed=fold.embargoed,
        start=str(returns.index.min().date()),
        end=str(returns.index.max().date()),
        sharpe=sharpe_per_period(returns.to_numpy()) * math.sqrt(annualisation),
        hit_rate=hit,
    )


def walk_forward(
    make_model: ModelFactory,
    data: TrainingSet,
    splitter: PurgedWalkForward,
    thresholds: Thresholds,
) -> WalkForwardResult:
    """Train on each fold's purged past, predict its test block, chain the blocks."""
    per_year = annualisation(data)
    folds, pieces, probs = [], [], []
    for fold in splitter.split(data.times()):
        probabilities, hit = _fit_predict(make_model, data, fold)
        returns = strategy_returns(data, fold.test, probabilities, thresholds)
        folds.append(_score(data, fold, returns, hit, per_year))
        pieces.append(returns)
        probs.append(pd.Series(probabilities, index=fold.test))
    return WalkForwardResult(
        folds=folds,
        returns=pd.concat(pieces).sort_index(),
        probabilities=pd.concat(probs),
        annualisation=per_year,
    )


def cpcv(
    make_model: ModelFactory,
    data: TrainingSet,
    cv: CombinatorialPurgedCV,
    thresholds: Thresholds,
) -> CPCVResult:
    """Every CPCV split trained and scored; its test blocks assembled into the OOS paths."""
    per_year = annualisation(data)
    times = data.times()
    splits = cv.split(times)
    groups = date_groups(times, cv.n_groups)
    folds: list[FoldScore] = []
    block_returns: dict[tuple[int, int], pd.Series] = {}
    for number, fold in enumerate(splits):
        probabilities, hit = _fit_predict(make_model, data, fold)
        returns = strategy_returns(data, fold.test, probabilities, thresholds)
        folds.append(_score(data, fold, returns, hit, per_year))
        tested_groups = groups[fold.test]
        for group in fold.test_groups:
            mine = tested_groups == group
            block_returns[(number, group)] = strategy_returns(
                data, fold.test[mine], probabilities[mine], thresholds
            )
    path_sharpes = []
    for path in cv.paths():
        series = pd.concat([block_returns[key] for key in path]).sort_index()
        path_sharpes.append(sharpe_per_period(series.to_numpy()) * math.sqrt(per_year))
    return CPCVResult(folds=folds, path_sharpes=path_sharpes, annualisation=per_year)


@dataclass(frozen=True)
class Overfitting:
    """The platform's deflated Sharpe and PBO (quant_engine.overfitting) of the chosen model."""

    dsr: float
    n_trials: int
    benchmark_sharpe: float
    pbo: float | None
    """None with a single candidate: PBO ranks two or more configurations."""
    pbo_splits: int | None = None
    notes: list[str] = field(default_factory=list)


def overfitting(candidates: dict[str, pd.Series], chosen: str) -> Overfitting:
    """DSR of the chosen candidate's walk-forward OOS returns against every candidate's Sharpe;
    PBO by CSCV over the candidates' OOS returns lined up by date."""
    trial_sharpes = [sharpe_per_period(s.to_numpy()) for s in candidates.values()]
    deflated = deflated_sharpe_ratio(candidates[chosen].to_numpy(), trial_sharpes)
    notes = []
    pbo = splits = None
    if len(candidates) >= 2:
        matrix = pd.concat(candidates.values(), axis=1).fillna(0.0).to_numpy()
        splits = min(16, (matrix.shape[0] // 2) // 2 * 2)
        if splits >= 2:
            pbo = probability_of_backtest_overfitting(matrix, n_splits=splits).pbo
        else:
            notes.append(f"PBO needs >= 4 OOS dates, got {matrix.shape[0]}")
    return Overfitting(
        dsr=deflated.dsr,
        n_trials=deflated.n_trials,
        benchmark_sharpe=deflated.benchmark_sharpe,
        pbo=pbo,
        pbo_splits=splits if pbo is not None else None,
        notes=notes,
    )
