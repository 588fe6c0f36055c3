"""The predictor port: how a trained model reaches a strategy without the strategy importing it.

quant_strategy sits below the engine, the storage and quant_models (pyproject's layers), so an
ML strategy cannot load a model itself. It names the model it needs (a registry reference, or
`per_window` for a walk-forward that trains one per window); the service running it (the
backtest runner, the walk-forward engine, a paper session's builder) loads that model, checks
its artifact's checksum, and provides it here for the duration of the run (ADR 0052).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

PER_WINDOW = "per_window"
"""The key under which a walk-forward provides the model it trained on the current window."""


@runtime_checkable
class Predictor(Protocol):
    """A trained classifier seen from a strategy: P(label positive) for one feature row."""

    @property
    def feature_names(self) -> Sequence[str]:
        """The columns a row must hold, in order (the feature set's columns)."""
        ...

    def predict_proba(self, row: npt.NDArray[np.float64]) -> float:
        """P(label positive) for one row of features (NaN where a feature is undefined)."""
        ...


@dataclass(frozen=True, slots=True)
class Prediction:
    """One decision input, as journalled: the bar it was made at and what the model said."""

    timestamp: datetime
    symbol: str
    probability: float


@dataclass
class PredictionJournal:
    """Every prediction a run's strategies made, in order (tests compare runs bar by bar)."""

    entries: list[Prediction] = field(default_factory=list)

    def record(self, timestamp: datetime, symbol: str, probability: float) -> None:
        self.entries.append(Prediction(timestamp, symbol, probability))

    def by_bar(self) -> dict[tuple[datetime, str], float]:
        return {(p.timestamp, p.symbol): p.probability for p in self.entries}


@dataclass(frozen=True, slots=True)
class _Provision:
    predictors: Mapping[str, Predictor]
    journal: PredictionJournal | None


_PROVIDED: ContextVar[_Provision | None] = ContextVar("quant_predictors", default=None)


@contextmanager
def providing(
    predictors: Mapping[str, Predictor], journal: PredictionJournal | None = None
) -> Iterator[None]:
    """Strategies initialised inside this block find `predictors` by their reference (and
    journal their predictions in `journal`); the block's end withdraws them."""
    outer = _PROVIDED.get()
    merged = {**(outer.predictors if outer else {}), **predictors}
    token = _PROVIDED.set(
        _Provision(merged, journal if journal is not None else (outer.journal if outer else None))
    )
    try:
        yield
    finally:
        _PROVIDED.reset(token)


def provided_predictor(reference: str) -> Predictor | None:
    """The predictor provided for `reference` in the current run, or None."""
    provision = _PROVIDED.get()
    return None if provision is None else provision.predictors.get(reference)


def provided_journal() -> PredictionJournal | None:
    provision = _PROVIDED.get()
    return None if provision is None else provision.journal
