"""The same feature code and the same model make the same decision in a backtest, in a
walk-forward's out-of-sample window and in a paper replay of the same bars, bar by bar (issue 16,
ADR 0052). The walk-forward trains a model per in-sample window; the backtest and the paper
replay are then handed that window's model, retrained from the same bars to the same bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest

from quant_backtest.paper_replay import replay_paper
from quant_backtest.runner import run
from quant_backtest.walk_forward import WalkForwardEngine
from quant_backtest.walk_forward_model import WalkForwardConfig, WalkForwardResult
from quant_domain import ConfigError
from quant_engine import BacktestConfig
from quant_engine.vectorised import unsupported_reason
from quant_features import bars_panel
from quant_marketdata import SampleSource
from quant_models.feature_training import train_until
from quant_models.predictor import ModelPredictor
from quant_models.xgboost_model import XGBoostModel, XGBoostParams
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config
from quant_strategy.builtin.xgb_direction import XgbDirection, strategy_feature_set
from quant_strategy.predictors import Prediction, PredictionJournal, providing

CONFIG = "configs/strategies/xgb_direction_v1.yaml"
MODEL_PARAMS = {"n_estimators": 30, "max_depth": 3}
END = date(2014, 12, 31)
WINDOW = 2  # the window whose out-of-sample decisions are compared


def _config(**params: Any) -> StrategyConfig:
    config = load_strategy_config(CONFIG)
    return config.updated(params={**config.params, **params})


def _runs(journal: PredictionJournal) -> list[list[Prediction]]:
    """The journal cut into runs: each run starts again from the first bar of the history."""
    runs: list[list[Prediction]] = []
    for entry in journal.entries:
        if not runs or entry.timestamp <= runs[-1][-1].timestamp:
            runs.append([])
        runs[-1].append(entry)
    return runs


def _between(run: list[Prediction], start: date, end: date) -> list[tuple[datetime, float]]:
    return [(p.timestamp, p.probability) for p in run if start <= p.timestamp.date() <= end]


@pytest.fixture(scope="module")
def walk_forward() -> tuple[WalkForwardResult, list[list[Prediction]]]:
    config = _config(model=None, train="per_window", model_params=MODEL_PARAMS)
    wf = WalkForwardConfig(
        in_sample_days=2920, out_of_sample_days=730, min_trades_required=0, parameter_grid={}
    )
    journal = PredictionJournal()
    with providing({}, journal):
        result = WalkForwardEngine(SampleSource(), BacktestConfig(end=END)).run(config, wf)
    return result, _runs(journal)


@pytest.fixture(scope="module")
def window_model(
    walk_forward: tuple[WalkForwardResult, list[list[Prediction]]],
) -> tuple[XGBoostModel, Any]:
    """The model of WINDOW, retrained from the same bars (deterministic training)."""
    result, _ = walk_forward
    window = result.windows[WINDOW - 1].window
    source = SampleSource()
    frames = {"SP500": source.get_bars("SP500", None, datetime(2014, 12, 31, 23, tzinfo=UTC))}
    config = _config()
    model, data = train_until(
        strategy_feature_set(config, "daily_core_v1"),
        bars_panel(frames),
        build_strategy(config).params.label,
        pd.Timestamp(window.in_sample_end, tz="UTC").to_pydatetime(),
        XGBoostParams.model_validate(MODEL_PARAMS),
        start=pd.Timestamp(window.in_sample_start, tz="UTC").to_pydatetime(),
    )
    return model, data


def test_each_walk_forward_window_trains_its_own_model_on_labels_known_by_its_end(
    walk_forward: tuple[WalkForwardResult, list[list[Prediction]]],
    window_model: tuple[XGBoostModel, Any],
) -> None:
    result, _ = walk_forward
    assert [w.status for w in result.windows] == ["ok"] * len(result.windows)
    shas = [w.chosen_params["model"] for w in result.windows if w.chosen_params]
    assert len(set(shas)) == len(result.windows) >= 3
    model, data = window_model
    window = result.windows[WINDOW - 1]
    assert model.model_hash()[:12] == shas[WINDOW - 1]  # the same bars retrain the same bytes
    assert f"model sha256 {model.model_hash()} trained on {len(data):,} rows" in window.note
    last_label = pd.to_datetime(data.t1, utc=True).max()
    assert last_label <= pd.Timestamp(window.window.in_sample_end, tz="UTC")
    assert data.window()[0] >= pd.Timestamp(window.window.in_sample_start, tz="UTC")


def test_backtest_walk_forward_and_paper_replay_predict_the_same_on_every_bar(
    walk_forward: tuple[WalkForwardResult, list[list[Prediction]]],
    window_model: tuple[XGBoostModel, Any],
) -> None:
    result, runs = walk_forward
    window = result.windows[WINDOW - 1].window
    start, end = window.out_of_sample_start, window.out_of_sample_end
    # per window: the in-sample run, then the out-of-sample run
    walk = _between(runs[2 * WINDOW - 1], start, end)
    model, _ = window_model
    config = _config(model="window-model")
    backtest_journal, paper_journal = PredictionJournal(), PredictionJournal()
    with providing({"window-model": ModelPredictor(model)}, backtest_journal):
        run(config, SampleSource(), BacktestConfig(end=end))
    with providing({"window-model": ModelPredictor(model)}, paper_journal):
        replay = replay_paper(
            config, SampleSource(), BacktestConfig(start=start, end=end, warmup_bars=100_000)
        )
    backtest = _between(_runs(backtest_journal)[0], start, end)
    paper, paper_backtest = (_between(r, start, end) for r in _runs(paper_journal))
    assert len(walk) > 480  # two years of daily bars
    assert backtest == walk  # exact floats, not approximately
    assert paper == walk
    assert paper_backtest == walk
    assert replay.parity.identical


def test_the_model_reaches_the_strategy_only_when_provided_and_never_through_the_fast_path() -> (
    None
):
    strategy = build_strategy(_config())
    assert isinstance(strategy, XgbDirection)
    assert unsupported_reason(strategy, BacktestConfig()) is not None
    with pytest.raises(ConfigError, match="no model provided for 'xgb_direction_sp500'") as err:
        run(_config(), SampleSource(), BacktestConfig(end=date(2001, 12, 31)))
    assert err.value.field == "params.model"


class _OtherColumns:
    feature_names = ("ret_1", "rsi_14")

    def predict_proba(self, row: Any) -> float:
        return 0.5


def test_a_model_trained_on_other_features_is_refused_before_the_run() -> None:
    with (
        providing({"xgb_direction_sp500": _OtherColumns()}),
        pytest.raises(ConfigError, match="trained on other features") as err,
    ):
        build_strategy(_config())
    assert err.value.field == "params.features"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": None}, "give model"),
        ({"train": "per_window"}, "exclude each other"),
        ({"long_above": 0.4}, "short_below <= exit_below <= long_above"),
        ({"features": "no_such_set"}, "no feature set 'no_such_set'"),
    ],
)
def test_bad_params_name_their_field(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        build_strategy(_config(**params))
    assert (err.value.field or "").startswith("params")
