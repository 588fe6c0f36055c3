"""xgb_direction_v1: long when a trained classifier says "up" often enough, flat (or short) when not.

The features are computed bar by bar by the feature set's FeatureUpdater in every mode (a
backtest, a walk-forward's windows, a paper session), so the model sees the same inputs
everywhere; the model itself arrives through the predictor port (quant_strategy.predictors),
provided by the service running the strategy after it loaded the model from the registry.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from quant_domain import Bar, MarketState, Signal
from quant_features import FeatureSet, FeatureUpdater, LabelSpec, load_feature_set
from quant_strategy.base import Strategy, StrategyParams
from quant_strategy.config import StrategyConfig
from quant_strategy.position_signals import desired_signal
from quant_strategy.predictors import (
    PER_WINDOW,
    PredictionJournal,
    Predictor,
    provided_journal,
    provided_predictor,
)

FEATURES_FOLDER = Path("configs") / "features"


class XgbDirectionParams(StrategyParams):
    features: str = Field(
        min_length=1, description="feature set: a name in configs/features or a YAML path"
    )
    label: LabelSpec = Field(description="what the model was trained to predict")
    model: str | None = Field(
        default=None, description="registry reference (name, name:version or #id)"
    )
    train: Literal["registry", "per_window"] = Field(
        default="registry",
        description="registry: use `model`; per_window: a walk-forward trains one per window",
    )
    model_params: dict[str, float | int] = Field(
        default_factory=dict, description="XGBoost parameters for per_window training"
    )
    long_above: float = Field(default=0.55, gt=0, lt=1, description="go long above this P(up)")
    exit_below: float = Field(default=0.5, gt=0, lt=1, description="go flat below this P(up)")
    short_below: float = Field(
        default=0.45, gt=0, lt=1, description="go short below this P(up) (when shorts allowed)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> XgbDirectionParams:
        if self.train == "registry" and not self.model:
            raise ValueError("give model (a registry reference) or train: per_window")
        if self.train == "per_window" and self.model:
            raise ValueError("model and train: per_window exclude each other")
        if not self.short_below <= self.exit_below <= self.long_above:
            raise ValueError("thresholds must satisfy short_below <= exit_below <= long_above")
        return self

    @property
    def reference(self) -> str:
        """The key the running service provides the model under."""
        return self.model if self.train == "registry" and self.model else PER_WINDOW


def feature_set_path(config: StrategyConfig, name: str) -> Path:
    """A YAML path as given, else configs/features/<name>.yaml beside the strategy's folder,
    else under the working directory."""
    given = Path(name)
    if given.suffix in {".yaml", ".yml"}:
        if not given.is_absolute() and config.source_file:
            beside = Path(config.source_file).parent / given
            if beside.exists():
                return beside
        return given
    if config.source_file:
        sibling = Path(config.source_file).parent.parent / "features" / f"{name}.yaml"
        if sibling.exists():
            return sibling
    return FEATURES_FOLDER / f"{name}.yaml"


@cache
def _feature_set(path: Path, modified_ns: int) -> FeatureSet:
    """One parse per file version: a long-running service sees an edited set at its next run."""
    del modified_ns
    return load_feature_set(path)


def strategy_feature_set(config: StrategyConfig, name: str) -> FeatureSet:
    path = feature_set_path(config, name)
    if not path.exists():
        raise config.error("params.features", f"no feature set {name!r} (looked for {path})")
    resolved = path.resolve()
    return _feature_set(resolved, resolved.stat().st_mtime_ns)


class XgbDirection(Strategy[XgbDirectionParams]):
    """Per bar: update the features, ask the model P(up), and want long above `long_above`,
    flat below `exit_below` (short below `short_below` when the config allows shorts), holding
    what is held in between. No vector_targets: the decision needs the model, so the event loop
    runs it in every mode and the compiled fast path is never chosen."""

    params_model = XgbDirectionParams
    vector_reason = "xgb direction"

    def on_start(self) -> None:
        p = self.params
        self.feature_set = strategy_feature_set(self.config, p.features)
        self.updater = FeatureUpdater(self.feature_set)
        self._pending: dict[str, tuple[float, float, float, float, float]] = {}
        self._seen: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self._time: datetime | None = None
        self._short = self.config.risk.allow_short
        self.predictor: Predictor | None = provided_predictor(p.reference)
        self.journal: PredictionJournal | None = provided_journal()
        if self.predictor is not None:
            check_columns(self.config, self.predictor, self.feature_set)

    @property
    def warmup_bars(self) -> int:
        return self.feature_set.warmup_bars

    @property
    def model_reference(self) -> str:
        return self.params.reference

    def on_market_data(self, bar: Bar) -> None:
        if bar.symbol not in self._seen:
            return
        self._pending[bar.symbol] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        self._time = bar.timestamp

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if not self._pending or self._time is None:
            return []
        # one update per step with every symbol that closed a bar: cross-sectional ranks see all
        rows = self.updater.update(self._time, self._pending)
        self._pending = {}
        predictor = self._model()
        warmup = self.feature_set.warmup_bars
        held = state.portfolio.position
        signals: list[Signal] = []
        for symbol, row in rows.items():
            self._seen[symbol] += 1
            if self._seen[symbol] <= warmup:
                continue
            probability = predictor.predict_proba(row)
            if self.journal is not None:
                self.journal.record(state.timestamp, symbol, probability)
            want = self._want(probability)
            if want is None:
                continue
            signal = desired_signal(symbol, want, held(symbol), state.timestamp, self.vector_reason)
            if signal is not None:
                signals.append(signal)
        return signals

    def _want(self, probability: float) -> float | None:
        p = self.params
        if math.isnan(probability):
            return None
        if probability > p.long_above:
            return 1.0
        if self._short and probability < p.short_below:
            return -1.0
        if probability < p.exit_below:
            return 0.0
        return None

    def _model(self) -> Predictor:
        if self.predictor is None:
            raise self.config.error(
                "params.model" if self.params.train == "registry" else "params.train",
                f"no model provided for {self.params.reference!r}: run this strategy through "
                "quant backtest, quant walk-forward or a paper session, which load it",
            )
        return self.predictor


def check_columns(config: StrategyConfig, predictor: Predictor, feature_set: FeatureSet) -> None:
    """Refuse a model trained on other columns than the feature set computes, in other order."""
    expected = feature_set.columns
    names = list(predictor.feature_names)
    if names != expected:
        extra = [n for n in names if n not in expected][:3]
        lacking = [n for n in expected if n not in names][:3]
        raise config.error(
            "params.features",
            f"the model was trained on other features than {feature_set.name} computes "
            f"(model only: {extra or '-'}; set only: {lacking or '-'}; or another order)",
        )
