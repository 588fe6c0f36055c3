"""The execution service trades xgb_direction_v1 in PAPER with the registry model its config
names: the session predicts the same floats and sends the same orders as a backtest of the same
bars and warm-up given that model; a model that cannot be loaded keeps the strategy out."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_backtest.runner import load_frames, run_engine
from quant_bus.redis_bus import RedisBus
from quant_db.schema.runs import Mode
from quant_engine import BacktestConfig
from quant_engine.parity import parity_report
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from quant_models.artifacts import ArtifactStore
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config
from quant_strategy.predictors import PredictionJournal, providing
from tests.integration.test_execution_service import (  # noqa: F401 - url is a fixture
    CONFIGS,
    FEED,
    register,
    set_mode,
    until,
    url,
    with_service,
)
from tests.integration.test_worker_ml import _register as register_model


def _config(model: str) -> StrategyConfig:
    config = load_strategy_config(CONFIGS / "xgb_direction_v1.yaml")
    return config.updated(
        params={**config.params, "model": model}, benchmark=None, start=None, end=None
    )


def test_a_paper_session_predicts_and_trades_as_the_backtest_with_the_registry_model(
    database_url: str,
    url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    predictor = register_model(database_url, ArtifactStore(tmp_path.as_uri()))
    config = _config("worker_direction")
    source = SampleSource()
    first, last = date(2010, 1, 1), date(2011, 12, 31)
    frames = {"SP500": source.get_bars("SP500").loc[str(first) : str(last)]}

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> Any:
        await register(sessions, config, Mode.PAPER)
        await until(lambda: config.id in service.trading)
        trading = service.trading[config.id]
        steps = await publish_replay(bus, frames, source=FEED)
        await until(lambda: trading.runner.processed == steps, timeout=120)
        paper = trading.session.result()
        await set_mode(sessions, config.id, Mode.BACKTEST)
        await until(lambda: config.id not in service.trading)
        return paper

    paper_journal = PredictionJournal()
    with providing({}, paper_journal):
        paper = with_service(database_url, url, scenario)
    warmup = build_strategy(config).warmup_bars
    bt = BacktestConfig(start=first, end=last, warmup_bars=warmup)
    full, _ = load_frames(config, source, bt)
    backtest_journal = PredictionJournal()
    with providing({"worker_direction": predictor}, backtest_journal):
        backtest = run_engine(config, full, bt, calendar="XNYS", account="paper")
    report = parity_report(paper, backtest)
    assert report.identical, report.summary()
    assert len(paper.orders) >= 2
    start = datetime(2010, 1, 1, tzinfo=UTC)
    traded = [e for e in backtest_journal.entries if e.timestamp >= start]
    assert len(traded) > 480
    assert [e for e in paper_journal.entries if e.timestamp >= start] == traded


def test_a_strategy_whose_model_cannot_be_loaded_is_kept_out_of_paper(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    config = _config("nobody_trained_me")

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> str:
        await register(sessions, config, Mode.PAPER)
        await until(lambda: config.id in service.refused)
        await asyncio.sleep(0.2)
        assert config.id not in service.trading
        return service.refused[config.id]

    why = with_service(database_url, url, scenario)
    assert "its model cannot be loaded" in why
    assert "no model 'nobody_trained_me' in the registry" in why
