"""The backtest worker's runs: one run id executed end to end (the job loop is job_loop.py).

Progress goes into the run row (fraction, processed/total, message) at most twice a second; a
cancel request is honoured at the next progress report. When a worker dies or loses PostgreSQL
mid-run, the job is taken again (pgqueuer, once its heartbeat is stale, or requeue_orphans); that
attempt starts over, and after MAX_ATTEMPTS the run is marked failed with the reason, so no run
stays `running` forever.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pandas as pd
import structlog

from quant_backtest.database_link import CONNECT_TIMEOUT_S, DatabaseLost, close_quietly
from quant_backtest.db_source import DatabaseSource
from quant_backtest.model_link import load_models_from, model_metadata, provided
from quant_backtest.persist import save_results
from quant_backtest.report_html import render_html_report
from quant_backtest.runner import run
from quant_backtest.training_job import register_and_complete, train_in_thread
from quant_backtest.walk_forward import WalkForwardEngine
from quant_backtest.walk_forward_json import walk_forward_summary
from quant_backtest.walk_forward_report import render_walk_forward_report
from quant_db.outages import database_unreachable
from quant_db.outages import reason as outage_reason
from quant_db.urls import asyncpg_dsn
from quant_engine import BacktestConfig
from quant_engine.risk_policy import RiskPolicy
from quant_engine.walk_forward_config import WalkForwardConfig
from quant_marketdata import DataSource, open_source
from quant_models.predictor import LoadedModel
from quant_models.training_config import TrainingConfig
from quant_strategy import StrategyConfig
from quant_telemetry.metrics import RUN_DURATION

MAX_ATTEMPTS = 3
REPORT_EVERY_S = 0.5
log = structlog.get_logger("quant.worker")


class RunCancelled(Exception):
    """Raised inside the computation when the run's cancel flag is seen."""


@dataclass(frozen=True, slots=True)
class QueuedPolicy:
    """The risk policy a run was queued with (POST /v1/runs `backtest.risk_policy`): resolved
    by the API and kept in the run's `repro.risk_policy` until the worker replaces them."""

    policy: RiskPolicy
    origin: dict[str, Any]  # {"name": "default.yaml" or "in_force", "version": n or None}

    @classmethod
    def of(cls, repro: dict[str, Any]) -> QueuedPolicy | None:
        queued = repro.get("risk_policy")
        if not isinstance(queued, dict):
            return None
        origin = {"name": queued.get("name"), "version": queued.get("version")}
        return cls(RiskPolicy.model_validate(queued["policy"]), origin)


@dataclass(slots=True)
class Outcome:
    equity: Any
    trades: Any
    fills: Any
    orders: Any
    metrics: Any
    metadata: Any
    report: str
    extra: dict[str, Any]
    benchmark: pd.Series | None = None  # buy-and-hold of the benchmark symbol, for the charts


def choose_source(config: StrategyConfig, url: str) -> DataSource:
    """Bars from PostgreSQL when every symbol was ingested, else the config's own source."""
    database = DatabaseSource(url)
    if config.reads_database(database.symbols()):
        return database
    database.close()
    return open_source(config.file_source)


def compute(
    run_type: str,
    config: StrategyConfig,
    bt: BacktestConfig,
    source: DataSource,
    progress: Callable[[float, int, int, str], None],
    run_id: uuid.UUID | None = None,
    policy: QueuedPolicy | None = None,
    models: dict[str, LoadedModel] | None = None,
) -> Outcome:
    """The CPU-bound part, run in a thread: a backtest or a walk-forward optimisation.

    The result (and so its report) is named by `run_id`, the run row's id, so the report, the
    API and the dashboard show one id for the run. A backtest queued with a risk `policy` runs
    under it, and its metadata keeps the policy, where it came from and where it tripped.
    """
    name = None if run_id is None else str(run_id)
    if run_type == "walk_forward":
        wf = WalkForwardConfig.model_validate(config.walk_forward or {})

        def phase(name: str, done: int, total: int) -> None:
            low, high = (0.0, 0.8) if name == "grid" else (0.8, 1.0)
            progress(
                low + (high - low) * done / max(total, 1), done, total, f"{name} {done}/{total}"
            )

        result = WalkForwardEngine(source, bt, workers=1).run(
            config, wf, progress=phase, run_id=name
        )
        extra = {"walk_forward": walk_forward_summary(result)}
        return Outcome(
            result.equity,
            result.trades,
            result.fills,
            result.orders,
            result.oos_metrics,
            result.metadata,
            render_walk_forward_report(result),
            extra,
            result.benchmark,
        )

    def bars(done: int, total: int) -> None:
        progress(done / max(total, 1), done, total, f"backtest {done:,}/{total:,} bars")

    if policy is None:
        backtest = run(config, source, bt, progress=bars, run_id=name)
    else:
        backtest = run(config, source, bt, progress=bars, run_id=name, risk_policy=policy.policy)
        backtest.metadata = replace(
            backtest.metadata, risk={**(backtest.metadata.risk or {}), **policy.origin}
        )
    if models:
        backtest.metadata = replace(backtest.metadata, model=model_metadata(models, backtest))
    return Outcome(
        backtest.equity,
        backtest.trades,
        backtest.fills,
        backtest.orders,
        backtest.metrics,
        backtest.metadata,
        render_html_report(backtest),
        {},
        backtest.benchmark,
    )


class RunExecutor:
    """Executes one run id end to end against the database at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def execute(self, run_id: uuid.UUID) -> str:
        """Run it and return the final status (completed, failed, cancelled, or skipped).

        Raises DatabaseLost when PostgreSQL went away: nothing could be written, so the run keeps
        its status and is tried again once the database is back.
        """
        try:
            connection = await asyncpg.connect(asyncpg_dsn(self.url), timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:
            _raise_if_lost(exc)
            raise
        try:
            return await self._execute(connection, run_id)
        except Exception as exc:
            _raise_if_lost(exc)
            raise
        finally:
            await close_quietly(connection)

    async def _execute(self, connection: asyncpg.Connection[Any], run_id: uuid.UUID) -> str:
        row = await connection.fetchrow(
            "UPDATE runs SET attempts = attempts + 1 WHERE id = $1 AND status IN ('queued', 'running') "
            "RETURNING type, status, attempts, cancel_requested, strategy_id, config, backtest_config, "
            "repro",
            run_id,
        )
        if row is None:
            return "skipped"  # finished, cancelled or deleted meanwhile
        bound = log.bind(
            run_id=str(run_id), strategy_id=row["strategy_id"], attempt=row["attempts"]
        )
        if row["cancel_requested"]:
            await self._finish(connection, run_id, "cancelled", "cancelled before it started")
            return "cancelled"
        if row["attempts"] > MAX_ATTEMPTS:
            await self._finish(
                connection,
                run_id,
                "failed",
                f"stopped after {MAX_ATTEMPTS} attempts were interrupted",
                error=f"{MAX_ATTEMPTS} attempts interrupted: the worker died or lost the database",
            )
            return "failed"
        if row["attempts"] > 1:
            # results are only ever written with the final status, in one transaction, so an
            # interrupted attempt leaves nothing behind to clear
            bound.warning("run.restarting", reason="a previous attempt was interrupted")
        await connection.execute(
            "UPDATE runs SET status = 'running', started_at = now(), progress = 0, message = $2 WHERE id = $1",
            run_id,
            "starting" if row["attempts"] == 1 else f"restarted (attempt {row['attempts']})",
        )
        bound.info("run.started")
        started = time.monotonic()

        def finished(status: str) -> str:
            RUN_DURATION.labels(kind=str(row["type"]), status=status).observe(
                time.monotonic() - started
            )
            return status

        if row["type"] == "train":
            return finished(await self._train(connection, run_id, _json(row["config"]), bound))
        try:
            config = StrategyConfig.model_validate(_json(row["config"]))
            bt = BacktestConfig.model_validate(_json(row["backtest_config"]))
            policy = QueuedPolicy.of(_json(row["repro"]) or {})
            outcome = await self._compute(connection, run_id, row["type"], config, bt, policy)
        except RunCancelled:
            await self._finish(connection, run_id, "cancelled", "cancelled while running")
            bound.info("run.cancelled")
            return finished("cancelled")
        except Exception as exc:
            if database_unreachable(exc):  # not the run's fault: it is retried, not failed
                raise DatabaseLost(outage_reason(exc)) from exc
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            await self._finish(connection, run_id, "failed", "failed", error=reason)
            bound.error("run.failed", error=reason)
            return finished("failed")
        try:
            await self._save(connection, run_id, config.id, outcome)
        except RunCancelled:
            # asked to stop after the computation's last progress report: nothing is stored
            await self._finish(connection, run_id, "cancelled", "cancelled while running")
            bound.info("run.cancelled")
            return finished("cancelled")
        except Exception as exc:
            # the database went away between the computation and its results (a fast compiled
            # run can finish first): the run is retried like one interrupted mid-computation
            _raise_if_lost(exc)
            raise
        bound.info("run.completed")
        return finished("completed")

    async def _save(
        self,
        connection: asyncpg.Connection[Any],
        run_id: uuid.UUID,
        strategy_id: str,
        outcome: Outcome,
    ) -> None:
        """Store the results with the final status, unless a cancel came first (RunCancelled).

        A cancel request that lands after the computation's last progress report is still
        honoured: it is read again inside the transaction that completes the run, after the
        run row was updated, so a request committed before that update rolls everything back,
        and one that comes later waits for the commit and finds the run completed.
        """
        if await self._cancel_requested(connection, run_id):
            raise RunCancelled
        async with connection.transaction():
            await save_results(
                connection,
                run_id,
                strategy_id=strategy_id,
                equity=outcome.equity,
                trades=outcome.trades,
                fills=outcome.fills,
                orders=outcome.orders,
                metrics=outcome.metrics,
                metadata=outcome.metadata,
                report_html=outcome.report,
                extra_metrics=outcome.extra,
                benchmark=outcome.benchmark,
            )
            if await self._cancel_requested(connection, run_id):
                raise RunCancelled

    @staticmethod
    async def _cancel_requested(connection: asyncpg.Connection[Any], run_id: uuid.UUID) -> bool:
        flag = await connection.fetchval("SELECT cancel_requested FROM runs WHERE id = $1", run_id)
        return bool(flag)

    async def _train(
        self,
        connection: asyncpg.Connection[Any],
        run_id: uuid.UUID,
        stored: dict[str, Any],
        bound: Any,
    ) -> str:
        """A train run (ADR 0053): quant_models trains in a thread, then the model is
        registered naming this run and the run completes, in one transaction."""
        try:
            config = TrainingConfig.model_validate(stored)
            progress = self._progress_reporter(connection, run_id)
            trained = await asyncio.to_thread(train_in_thread, config, progress)
            model_id = await register_and_complete(self.url, run_id, trained)
        except RunCancelled:
            await self._finish(connection, run_id, "cancelled", "cancelled while running")
            bound.info("run.cancelled")
            return "cancelled"
        except Exception as exc:
            if database_unreachable(exc):  # not the run's fault: it is retried, not failed
                raise DatabaseLost(outage_reason(exc)) from exc
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            await self._finish(connection, run_id, "failed", "failed", error=reason)
            bound.error("run.failed", error=reason)
            return "failed"
        bound.info("run.completed", model_id=model_id)
        return "completed"

    def _progress_reporter(
        self, connection: asyncpg.Connection[Any], run_id: uuid.UUID
    ) -> Callable[[float, int, int, str], None]:
        """A progress callback for a computation in a thread: it writes the run row at most
        every REPORT_EVERY_S (and at the end) and raises RunCancelled once a cancel is asked."""
        loop = asyncio.get_running_loop()
        last = [0.0]

        async def report(fraction: float, done: int, total: int, message: str) -> bool:
            flag = await connection.fetchval(
                "UPDATE runs SET progress = $2, processed = $3, total = $4, message = $5 "
                "WHERE id = $1 RETURNING cancel_requested",
                run_id,
                min(max(fraction, 0.0), 1.0),
                done,
                total,
                message,
            )
            return bool(flag)

        def progress(fraction: float, done: int, total: int, message: str) -> None:
            now = time.monotonic()
            if now - last[0] < REPORT_EVERY_S and done < total:
                return
            last[0] = now
            cancelled = asyncio.run_coroutine_threadsafe(
                report(fraction, done, total, message), loop
            ).result(30)
            if cancelled:
                raise RunCancelled

        return progress

    async def _compute(
        self,
        connection: asyncpg.Connection[Any],
        run_id: uuid.UUID,
        run_type: str,
        config: StrategyConfig,
        bt: BacktestConfig,
        policy: QueuedPolicy | None = None,
    ) -> Outcome:
        progress = self._progress_reporter(connection, run_id)

        def in_thread() -> Outcome:
            # DatabaseSource drives its own event loop, so it must live off the worker's loop
            source = choose_source(config, self.url)
            try:
                # a strategy's registry model, checksum verified, provided for this run only
                models = load_models_from(self.url, config)
                with provided(models):
                    return compute(run_type, config, bt, source, progress, run_id, policy, models)
            finally:
                if isinstance(source, DatabaseSource):
                    source.close()

        return await asyncio.to_thread(in_thread)

    async def _finish(
        self,
        connection: asyncpg.Connection[Any],
        run_id: uuid.UUID,
        status: str,
        message: str,
        error: str | None = None,
    ) -> None:
        await connection.execute(
            "UPDATE runs SET status = $2, message = $3, error = $4, finished_at = now() WHERE id = $1",
            run_id,
            status,
            message,
            error,
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _raise_if_lost(exc: Exception) -> None:
    """DatabaseLost from `exc` when it is an outage (a DatabaseLost itself goes on as it is)."""
    if not isinstance(exc, DatabaseLost) and database_unreachable(exc):
        raise DatabaseLost(outage_reason(exc)) from exc
