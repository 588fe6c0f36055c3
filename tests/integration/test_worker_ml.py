"""A queued backtest of xgb_direction_v1: the worker loads the registry model the config names
(artifact checksum verified) and trades exactly as a direct run with that model does; a model
the registry lacks fails the run with the field named."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_backtest import run
from quant_backtest.job_loop import serve
from quant_engine import BacktestConfig
from quant_features import LabelSpec, bars_panel, load_feature_set
from quant_marketdata import SampleSource
from quant_models import registry
from quant_models.artifacts import ArtifactStore
from quant_models.feature_training import train_until
from quant_models.predictor import ModelPredictor
from quant_models.xgboost_model import XGBoostParams
from quant_strategy import load_strategy_config
from quant_strategy.predictors import providing
from tests.integration.test_worker import _row, queue_run

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "xgb_direction_v1.yaml"
END = date(2012, 12, 31)


def _register(url: str, store: ArtifactStore) -> ModelPredictor:
    feature_set = load_feature_set("configs/features/daily_core_v1.yaml")
    bars = bars_panel({"SP500": SampleSource().get_bars("SP500", None, None)})
    label = LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.0, binary=True)
    until = datetime(2008, 12, 31, tzinfo=UTC)
    params = XGBoostParams(n_estimators=30, max_depth=3)
    model, data = train_until(feature_set, bars, label, until, params)
    artifact = store.put(model.to_bytes())

    async def record() -> None:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                await registry.register(
                    session,
                    name="worker_direction",
                    kind=model.kind,
                    feature_set_version=feature_set.version,
                    label_definition=label.model_dump(),
                    train_window=data.window(),
                    data_fingerprint=data.fingerprint(),
                    params=params.model_dump(),
                    validation={"oos_sharpe": 0.1, "dsr": 0.5},
                    artifact=artifact,
                    code_version="test",
                    trained_via="test",
                    request_id="test",
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(record())
    return ModelPredictor(model)


def _config(model: str) -> dict[str, Any]:
    config = load_strategy_config(CONFIG)
    config = config.updated(params={**config.params, "model": model})
    return config.model_dump(mode="json", by_alias=True)


def test_the_worker_trades_a_queued_ml_backtest_with_the_registry_model(
    database_url: str, tmp_path: Path
) -> None:
    predictor = _register(database_url, ArtifactStore(tmp_path.as_uri()))
    backtest = BacktestConfig(end=END).model_dump(mode="json")
    run_id = asyncio.run(queue_run(database_url, _config("worker_direction"), "backtest", backtest))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id))
    assert row["status"] == "completed", row["error"]
    with providing({"worker_direction": predictor}):
        direct = run(
            load_strategy_config(CONFIG).updated(
                params={**load_strategy_config(CONFIG).params, "model": "worker_direction"}
            ),
            SampleSource(),
            BacktestConfig(end=END),
        )
    assert direct.metrics.num_trades > 5
    assert json.loads(row["metrics"])["end_equity"] == direct.metrics.end_equity
    model = json.loads(row["repro"])["model"]
    assert (model["name"], model["version"]) == ("worker_direction", 1)
    assert model["train_end"] == "2008-12-31"
    assert model["out_of_sample"]["from"] == "2009-01-02"


def test_a_queued_ml_backtest_of_an_unknown_model_fails_naming_params_model(
    database_url: str,
) -> None:
    run_id = asyncio.run(queue_run(database_url, _config("nobody_trained_me")))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id))
    assert row["status"] == "failed"
    assert "params.model" in row["error"]
    assert "no model 'nobody_trained_me' in the registry" in row["error"]
