"""WalkForwardEngine: optimise in-sample, trade the winner out-of-sample, window after window.

Every out-of-sample window is a plain backtest (the same `run()` as `quant backtest`) of the
parameters chosen on the window before it, with warm-up bars before its start and every position
liquidated at its end; each window starts with the capital the previous one ended with, to the
cent. Windows where no combination made `min_trades_required` in-sample trades are kept in the
result, marked skipped, and spend their out-of-sample period in cash.
"""

from __future__ import annotations

import dataclasses
import functools
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from quant_backtest.grid_search import (
    ComboResult,
    RunOutcome,
    Span,
    build_job,
    default_workers,
    evaluate_grid,
    run_span,
    slice_span,
    strategies_for,
)
from quant_backtest.metadata import build_metadata
from quant_backtest.model_link import model_reference, trains_per_window
from quant_backtest.result import BacktestResult
from quant_backtest.runner import benchmark_curve, load_frames, run, universe_calendar
from quant_backtest.walk_forward_model import (
    WalkForwardConfig,
    WalkForwardResult,
    WindowResult,
    make_windows,
)
from quant_backtest.walk_forward_stats import choose, pbo_or_none, plateau, stability
from quant_domain import ConfigError, Fill, Trade
from quant_domain.errors import first_validation_error
from quant_engine import BacktestConfig, OrderRecord
from quant_engine.metrics import (
    compute_metrics,
    periods_per_year,
    sharpe_per_period,
    simple_returns,
)
from quant_engine.objectives import score
from quant_engine.overfitting import deflated_sharpe_ratio, degradation, efficiency_ratio
from quant_engine.vectorised import unsupported_reason
from quant_features import bars_panel
from quant_marketdata import DataSource
from quant_models.errors import ModelError
from quant_models.feature_training import train_until
from quant_models.predictor import ModelPredictor
from quant_models.xgboost_model import XGBoostModel, XGBoostParams
from quant_strategy import StrategyConfig, resolve_class
from quant_strategy.builtin.xgb_direction import XgbDirectionParams, strategy_feature_set
from quant_strategy.predictors import PER_WINDOW, providing

Progress = Callable[[str, int, int], None]
CURVE_COLUMNS = ("equity", "cash", "positions_value", "gross_exposure")
"""The stitched curve's columns: what each out-of-sample backtest's equity frame carries."""


class WalkForwardEngine:
    """Runs walk-forward optimisation for one strategy config on one data source."""

    def __init__(
        self, data: DataSource, backtest: BacktestConfig, workers: int | None = None
    ) -> None:
        self.data = data
        self.backtest = backtest
        self.workers = workers or default_workers()
        self._calendar: str | None = None  # the run's session calendar, set by run()

    def run(
        self,
        strategy_config: StrategyConfig,
        config: WalkForwardConfig,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> WalkForwardResult:
        """Optimise and trade window after window; `run_id` names the result (else a fresh id)."""
        clock = {"start": time.perf_counter()}
        bt = self.backtest.model_copy(update={"warmup_bars": 0, "liquidate_at_end": False})
        frames, benchmark_bars = load_frames(strategy_config, self.data, bt)
        self._calendar = universe_calendar(strategy_config, self.data)
        combos = config.combinations(strategy_config.params)
        try:
            strategies = strategies_for(strategy_config, combos)
        except ConfigError as exc:
            raise ConfigError(
                f"grid combination {exc.field or ''} {exc.message}".strip(),
                file=exc.file,
                line=exc.line,
                field="walk_forward.parameter_grid",
            ) from None
        warmup = max(s.warmup_bars for s in strategies)
        if model_reference(strategy_config) is not None:
            # a provided model lives in this process (quant_strategy.predictors): no grid pool
            self.workers = 1
        fast_path = unsupported_reason(strategies[0], bt) is None
        index = functools.reduce(
            pd.DatetimeIndex.union, (pd.DatetimeIndex(f.index) for f in frames.values())
        )
        if len(index) <= warmup + 1:
            raise ConfigError(
                f"only {len(index)} bars: not enough for a warm-up of {warmup}",
                field="walk_forward",
            )
        first, last = index[warmup].date(), index[-1].date()
        windows = make_windows(first, last, config)
        if not windows:
            raise ConfigError(
                f"{first}..{last} is too short for one window of {config.in_sample_days} in-sample "
                f"+ {config.out_of_sample_days} out-of-sample days",
                field="walk_forward.in_sample_days",
            )
        ppy = bt.periods_per_year or periods_per_year(index)
        if trains_per_window(strategy_config):
            if config.parameter_grid:
                raise ConfigError(
                    "train: per_window fits a model in each window; it takes no parameter grid",
                    field="walk_forward.parameter_grid",
                )
            clock["prepared"] = clock["grid"] = time.perf_counter()
            parts = self._per_window(strategy_config, config, windows, frames, ppy, bt, progress)
            clock["out_of_sample"] = time.perf_counter()
            per_window = self._assemble(
                strategy_config,
                config,
                combos,
                parts.windows,
                parts.equity,
                parts.trades,
                parts.fills,
                [parts.combo],
                frames,
                benchmark_bars,
                ppy,
                clock,
                warmup,
                fast_path,
                run_id,
            )
            per_window.orders = parts.orders
            return per_window
        job = build_job(
            strategy_config,
            combos,
            frames,
            [Span(w.in_sample_start, w.in_sample_end) for w in windows],
            Span(first, last),
            warmup,
            bt,
            config.objective,
            ppy,
            self._calendar,
        )
        clock["prepared"] = time.perf_counter()
        results = evaluate_grid(
            job, self.workers, None if progress is None else (lambda d, t: progress("grid", d, t))
        )
        clock["grid"] = time.perf_counter()
        window_results, equity_parts, trades, fills, orders = self._out_of_sample(
            strategy_config, config, windows, combos, results, frames, warmup, ppy, bt, progress
        )
        clock["out_of_sample"] = time.perf_counter()
        result = self._assemble(
            strategy_config,
            config,
            combos,
            window_results,
            equity_parts,
            trades,
            fills,
            results,
            frames,
            benchmark_bars,
            ppy,
            clock,
            warmup,
            fast_path,
            run_id,
        )
        result.orders = orders
        return result

    def _out_of_sample(
        self,
        strategy_config: StrategyConfig,
        config: WalkForwardConfig,
        windows: list[Any],
        combos: list[dict[str, Any]],
        results: list[ComboResult],
        frames: dict[str, pd.DataFrame],
        warmup: int,
        ppy: float,
        in_sample_bt: BacktestConfig,
        progress: Progress | None,
    ) -> tuple[list[WindowResult], list[pd.DataFrame], list[Trade], list[Fill], list[OrderRecord]]:
        capital = Decimal(self.backtest.initial_capital)
        window_results: list[WindowResult] = []
        parts: list[pd.DataFrame] = []
        trades: list[Trade] = []
        fills: list[Fill] = []
        orders: list[OrderRecord] = []
        trial_sharpes = [[r.sharpes[w] for r in results] for w in range(len(windows))]
        for w, window in enumerate(windows):
            scores = [r.scores[w] for r in results]
            counts = [r.trades[w] for r in results]
            chosen = choose(scores, counts, config.min_trades_required)
            eligible = [
                s if c >= config.min_trades_required else None
                for s, c in zip(scores, counts, strict=True)
            ]
            item = WindowResult(window=window, scores=eligible, trade_counts=counts, status="ok")
            item.out_of_sample_start_equity = float(capital)
            if chosen is None:
                item.status = "skipped"
                item.note = (
                    f"no combination made {config.min_trades_required} in-sample trades "
                    f"(most: {max(counts)}); out-of-sample spent in cash"
                )
                span = slice_span(
                    frames, Span(window.out_of_sample_start, window.out_of_sample_end), 0
                )
                parts.append(_in_cash(float(capital), span.prices.index[span.trade_from :]))
            else:
                params = combos[chosen]
                chosen_config = strategy_config.updated(params=params)
                in_sample = run_span(
                    chosen_config,
                    slice_span(
                        frames,
                        Span(window.in_sample_start, window.in_sample_end),
                        warmup,
                        self._calendar,
                    ),
                    in_sample_bt,
                )
                oos = run(
                    chosen_config,
                    self.data,
                    self.backtest.model_copy(
                        update={
                            "start": window.out_of_sample_start,
                            "end": window.out_of_sample_end,
                            "warmup_bars": warmup,
                            "liquidate_at_end": True,
                            "initial_capital": capital,
                        }
                    ),
                )
                item.chosen_index = chosen
                item.chosen_params = {k: params[k] for k in config.parameter_grid} or dict(params)
                item.in_sample_score = scores[chosen]
                item.in_sample_metrics = compute_metrics(in_sample.equity, periods_per_year=ppy)
                item.in_sample_dsr = deflated_sharpe_ratio(
                    simple_returns(in_sample.equity), trial_sharpes[w]
                )
                item.plateau = plateau(scores, chosen, combos, config.parameter_grid)
                oos_equity = np.concatenate(([float(capital)], oos.equity["equity"].to_numpy()))
                pnls = np.array([float(t.pnl) for t in oos.trades if not t.is_open])
                item.out_of_sample_score = score(config.objective, oos_equity, pnls, ppy)
                item.out_of_sample_metrics = oos.metrics
                parts.append(oos.equity[list(CURVE_COLUMNS)])
                window_trades, window_fills, window_orders = _relabel(
                    window.number, oos.trades, oos.fills, oos.orders
                )
                trades.extend(window_trades)
                fills.extend(window_fills)
                orders.extend(window_orders)
            item.out_of_sample_end_equity = (
                float(parts[-1]["equity"].iloc[-1]) if len(parts[-1]) else float(capital)
            )
            capital = Decimal(f"{item.out_of_sample_end_equity:.2f}")
            window_results.append(item)
            if progress is not None:
                progress("out-of-sample", w + 1, len(windows))
        return window_results, parts, trades, fills, orders

    def _per_window(
        self,
        strategy_config: StrategyConfig,
        config: WalkForwardConfig,
        windows: list[Any],
        frames: dict[str, pd.DataFrame],
        ppy: float,
        in_sample_bt: BacktestConfig,
        progress: Progress | None,
    ) -> _PerWindow:
        """Train a model on each in-sample window (labels purged at its end by t1), then trade
        the out-of-sample window with it; every run feeds the features from each symbol's first
        bar, as a backtest over the whole history does, so the model sees the same rows."""
        params = resolve_class(strategy_config).parse_params(strategy_config)
        if not isinstance(params, XgbDirectionParams):
            raise ConfigError(
                f"train: per_window is built for xgb_direction only, not {strategy_config.class_path}",
                field="params.train",
            )
        feature_set = strategy_feature_set(strategy_config, params.features)
        model_params = XGBoostParams.model_validate(params.model_params)
        panel = bars_panel(frames)
        history = max(len(f) for f in frames.values())
        capital = Decimal(self.backtest.initial_capital)
        out = _PerWindow()
        for w, window in enumerate(windows):
            until = pd.Timestamp(window.in_sample_end, tz="UTC")
            start = pd.Timestamp(window.in_sample_start, tz="UTC")
            item = WindowResult(window=window, scores=[None], trade_counts=[0], status="ok")
            item.out_of_sample_start_equity = float(capital)
            try:
                model, data = train_until(
                    feature_set,
                    panel,
                    params.label,
                    until.to_pydatetime(),
                    model_params,
                    start=start.to_pydatetime(),
                )
            except ModelError as exc:
                out.skip(item, frames, float(capital), f"no model for this window: {exc}")
            else:
                in_sample, oos = self._trade_window(
                    strategy_config, window, frames, history, capital, in_sample_bt, model
                )
                is_score = score(config.objective, in_sample.equity, in_sample.trade_pnls, ppy)
                sha = model.model_hash()
                item.chosen_params = {"model": sha[:12]}
                item.note = (
                    f"model sha256 {sha} trained on {len(data):,} rows from "
                    f"{data.window()[0].date()}, labels known by {until.date()}"
                )
                oos_equity = np.concatenate(([float(capital)], oos.equity["equity"].to_numpy()))
                pnls = np.array([float(t.pnl) for t in oos.trades if not t.is_open])
                item.out_of_sample_score = score(config.objective, oos_equity, pnls, ppy)
                out.traded(item, in_sample, is_score, oos, ppy)
            item.out_of_sample_end_equity = (
                float(out.equity[-1]["equity"].iloc[-1]) if len(out.equity[-1]) else float(capital)
            )
            capital = Decimal(f"{item.out_of_sample_end_equity:.2f}")
            out.windows.append(item)
            if progress is not None:
                progress("out-of-sample", w + 1, len(windows))
        filled = [p["equity"] for p in out.equity if len(p)]
        curve = pd.concat(filled).to_numpy(np.float64) if filled else np.zeros(0)
        returns = simple_returns(np.concatenate(([float(self.backtest.initial_capital)], curve)))
        out.combo = dataclasses.replace(
            out.combo, full_returns=returns, full_sharpe=sharpe_per_period(returns)
        )
        return out

    def _trade_window(
        self,
        strategy_config: StrategyConfig,
        window: Any,
        frames: dict[str, pd.DataFrame],
        history: int,
        capital: Decimal,
        in_sample_bt: BacktestConfig,
        model: XGBoostModel,
    ) -> tuple[RunOutcome, BacktestResult]:
        """The in-sample and out-of-sample runs of one window with the model trained on it."""
        with providing({PER_WINDOW: ModelPredictor(model)}):
            in_sample = run_span(
                strategy_config,
                slice_span(
                    frames,
                    Span(window.in_sample_start, window.in_sample_end),
                    history,
                    self._calendar,
                ),
                in_sample_bt,
            )
            oos = run(
                strategy_config,
                self.data,
                self.backtest.model_copy(
                    update={
                        "start": window.out_of_sample_start,
                        "end": window.out_of_sample_end,
                        "warmup_bars": min(history, 100_000),
                        "liquidate_at_end": True,
                        "initial_capital": capital,
                    }
                ),
            )
        return in_sample, oos

    def _assemble(
        self,
        strategy_config: StrategyConfig,
        config: WalkForwardConfig,
        combos: list[dict[str, Any]],
        windows: list[WindowResult],
        parts: list[pd.DataFrame],
        trades: list[Trade],
        fills: list[Fill],
        results: list[ComboResult],
        frames: dict[str, pd.DataFrame],
        benchmark_bars: pd.DataFrame | None,
        ppy: float,
        clock: dict[str, float],
        warmup: int,
        fast_path: bool,
        run_id: str | None,
    ) -> WalkForwardResult:
        capital = float(self.backtest.initial_capital)
        filled = [p for p in parts if len(p)]
        equity = pd.concat(filled) if filled else _in_cash(capital, pd.DatetimeIndex([]))
        curve = equity["equity"]
        values = np.concatenate(([capital], curve.to_numpy(dtype=np.float64)))
        oos_metrics = compute_metrics(
            values,
            periods_per_year=ppy,
            trades=trades,
            exposure=np.concatenate(([0.0], equity["gross_exposure"].to_numpy(np.float64))),
            traded_notional=float(sum((f.notional for f in fills), Decimal(0))),
            total_fees=float(sum((f.commission for f in fills), Decimal(0))),
        )
        ok = [w for w in windows if w.status == "ok"]
        is_scores = [float(w.in_sample_score or 0.0) for w in ok]
        oos_scores = [float(w.out_of_sample_score or 0.0) for w in ok]
        returns = simple_returns(values)
        oos_dsr = (
            deflated_sharpe_ratio(returns, [r.full_sharpe for r in results])
            if returns.size >= 3
            else None
        )
        strategy_dump = strategy_config.model_dump(mode="json", by_alias=True)
        wf_dump = config.model_dump(mode="json")
        clock["done"] = time.perf_counter()
        return WalkForwardResult(
            id=run_id or uuid.uuid4().hex,
            strategy_id=strategy_config.id,
            strategy_config=strategy_dump,
            backtest_config=self.backtest.model_dump(mode="json"),
            walk_forward_config=wf_dump,
            grid=combos,
            windows=windows,
            equity=equity,
            benchmark=benchmark_curve(benchmark_bars, pd.DatetimeIndex(curve.index), capital)
            if len(curve)
            else None,
            benchmark_symbol=strategy_config.benchmark,
            trades=trades,
            fills=fills,
            oos_metrics=oos_metrics,
            stability=stability(windows, config.parameter_grid),
            degradation=degradation(is_scores, oos_scores),
            efficiency=efficiency_ratio(is_scores, oos_scores) if ok else 0.0,
            oos_dsr=oos_dsr,
            pbo=pbo_or_none(results),
            metadata=build_metadata(
                strategy_config={**strategy_dump, "walk_forward": wf_dump},
                backtest_config=self.backtest.model_dump(mode="json"),
                frames=frames,
                seed=self.backtest.seed or strategy_config.seed,
                data_source=self.data.name,
            ),
            fast_path=fast_path,
            workers=self.workers,
            warmup_bars=warmup,
            timings={
                "prepare_s": clock["prepared"] - clock["start"],
                "grid_s": clock["grid"] - clock["prepared"],
                "out_of_sample_s": clock["out_of_sample"] - clock["grid"],
                "total_s": clock["done"] - clock["start"],
            },
        )


@dataclasses.dataclass
class _PerWindow:
    """What a per-window-trained walk-forward produced, in the shapes _assemble takes."""

    windows: list[WindowResult] = dataclasses.field(default_factory=list)
    equity: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    trades: list[Trade] = dataclasses.field(default_factory=list)
    fills: list[Fill] = dataclasses.field(default_factory=list)
    orders: list[OrderRecord] = dataclasses.field(default_factory=list)
    combo: ComboResult = dataclasses.field(
        default_factory=lambda: ComboResult(0, [], [], [], np.zeros(0), 0.0)
    )

    def skip(
        self, item: WindowResult, frames: dict[str, pd.DataFrame], capital: float, why: str
    ) -> None:
        """A window without a model: its out-of-sample period is spent in cash."""
        window = item.window
        item.status = "skipped"
        item.note = f"{why}; out-of-sample spent in cash"
        span = slice_span(frames, Span(window.out_of_sample_start, window.out_of_sample_end), 0)
        self.equity.append(_in_cash(capital, span.prices.index[span.trade_from :]))
        self.combo.scores.append(-np.inf)
        self.combo.trades.append(0)
        self.combo.sharpes.append(0.0)

    def traded(
        self,
        item: WindowResult,
        in_sample: RunOutcome,
        is_score: float,
        oos: BacktestResult,
        ppy: float,
    ) -> None:
        """A window traded with its own model: its in-sample fit and its out-of-sample run."""
        count = int(in_sample.trade_pnls.size)
        item.scores, item.trade_counts, item.chosen_index = [is_score], [count], 0
        item.in_sample_score = is_score
        item.in_sample_metrics = compute_metrics(in_sample.equity, periods_per_year=ppy)
        item.out_of_sample_metrics = oos.metrics
        self.equity.append(oos.equity[list(CURVE_COLUMNS)])
        trades, fills, orders = _relabel(item.window.number, oos.trades, oos.fills, oos.orders)
        self.trades.extend(trades)
        self.fills.extend(fills)
        self.orders.extend(orders)
        self.combo.scores.append(is_score if np.isfinite(is_score) else -np.inf)
        self.combo.trades.append(count)
        self.combo.sharpes.append(sharpe_per_period(simple_returns(in_sample.equity)))


def _in_cash(capital: float, index: pd.DatetimeIndex) -> pd.DataFrame:
    """A curve spent in cash: equity and cash at `capital`, nothing held or exposed."""
    return pd.DataFrame(
        {"equity": capital, "cash": capital, "positions_value": 0.0, "gross_exposure": 0.0},
        index=index,
        columns=list(CURVE_COLUMNS),
        dtype=np.float64,
    )


def _relabel(
    number: int, trades: list[Trade], fills: list[Fill], orders: list[OrderRecord]
) -> tuple[list[Trade], list[Fill], list[OrderRecord]]:
    """Prefix ids with the window ("w3-f-1"): each window's backtest numbers its own from 1.

    An order and its fills get the same prefix, so each stored fill still names its order.
    """
    prefix = f"w{number}-"
    relabelled = [
        dataclasses.replace(
            f, fill_id=prefix + f.fill_id, client_order_id=prefix + f.client_order_id
        )
        for f in fills
    ]
    for trade in trades:
        trade.trade_id = prefix + trade.trade_id
        trade.fill_ids = [prefix + f for f in trade.fill_ids]
    return trades, relabelled, [_relabel_order(prefix, r) for r in orders]


def _relabel_order(prefix: str, record: OrderRecord) -> OrderRecord:
    order = dataclasses.replace(record.order, client_order_id=prefix + record.order.client_order_id)
    return dataclasses.replace(
        record,
        order=order,
        fill_id=None if record.fill_id is None else prefix + record.fill_id,
        fill_ids=[prefix + f for f in record.fill_ids],
    )


def config_from_yaml_block(config: StrategyConfig) -> WalkForwardConfig | None:
    """The `walk_forward:` block of a strategy config, validated, or None when it has none."""
    if config.walk_forward is None:
        return None
    try:
        return WalkForwardConfig.model_validate(config.walk_forward)
    except ValidationError as exc:
        path, message = first_validation_error(exc, ("walk_forward",), unknown=None, missing=None)
        raise config.error(path, message) from None
