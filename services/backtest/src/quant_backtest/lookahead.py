"""Look-ahead check: re-run a strategy with every bar after t scrambled; orders up to t must not move."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_backtest.lookahead_suspicion import ResultCheck, judge_result
from quant_backtest.runner import load_frames, run_engine, universe_calendar
from quant_domain import OrderSide, OrderType
from quant_engine import BacktestConfig, EngineRun, Progress
from quant_engine.metrics import periods_per_year
from quant_marketdata import BAR_COLUMNS, DataSource
from quant_strategy import StrategyConfig

IntArray = npt.NDArray[np.int64]
FramesHook = Callable[[dict[str, pd.DataFrame]], None]
"""Called with each run's bars before its strategy is built (see `check_lookahead`)."""

JUMP = 0.25
"""Log size of the level shift at the first perturbed bar (about +28% or -22%)."""
STEP_VOL = 0.03
"""Per-bar volatility of the random walk multiplied onto the perturbed bars."""
GAP_VOL = 0.01
"""Extra per-bar noise on opens, so overnight gaps change too."""
VOLUME_VOL = 0.5
"""Per-bar log noise on volumes."""

_OPEN, _HIGH, _LOW, _CLOSE, _VOLUME = range(5)


class Decision(NamedTuple):
    """What a strategy decided at one step: one order as submitted (before any fill)."""

    submitted_at: datetime
    symbol: str
    side: OrderSide
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None

    def describe(self) -> str:
        text = f"{_when(self.submitted_at)} {self.side.value} {self.quantity} {self.symbol}"
        text += f" {self.order_type.value}"
        if self.limit_price is not None:
            text += f" limit {self.limit_price}"
        if self.stop_price is not None:
            text += f" stop {self.stop_price}"
        return text


@dataclass(frozen=True, slots=True)
class BiasFinding:
    """One decision point whose orders changed when only later bars did."""

    decision_point: datetime
    reference: Decision | None
    perturbed: Decision | None
    detail: str


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """Outcome of `check_lookahead`.

    Attributes:
        checked_points: the decision points checked, in time order.
        biased: one finding per decision point whose orders up to it changed.
        reference_orders: orders the unperturbed run placed.
        points_with_orders: checked points at which the unperturbed run placed orders.
        later_changed: checked points where a perturbed run placed different orders after the
            point; shows the perturbation reached the strategy (0 means the check had no teeth).
        result: the reference run's figures, flagged when they look too good to be true.
        outside_data_checked: a `prepare` hook handed each run's bars to what the strategy
            reads outside the engine; without one, such data was not perturbed nor checked.
    """

    checked_points: list[datetime]
    biased: list[BiasFinding]
    reference_orders: int
    result: ResultCheck
    points_with_orders: int = 0
    later_changed: int = 0
    outside_data_checked: bool = False

    @property
    def clean(self) -> bool:
        """No decision moved with later bars; says nothing of data the strategy loads itself."""
        return not self.biased


def check_lookahead(
    strategy_config: StrategyConfig,
    data: DataSource,
    config: BacktestConfig,
    *,
    checks: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    prepare: FramesHook | None = None,
    sharpe_limit: float | None = None,
) -> LookaheadReport:
    """Find decisions that depend on later bars.

    Runs the strategy once on the real bars (the reference), then for `checks` decision points t
    (the steps where the reference placed orders, plus a few where it did not, spread over the
    run and picked from `seed`) re-runs it from scratch twice, with every bar after t scaled by
    an upward and by a downward random path. Any order placed at or before t that differs from
    the reference is look-ahead bias.

    Args:
        progress: called with (checks done, checks total) after each decision point.
        prepare: called with each run's bars (the reference, every perturbed copy, and finally
            the reference again) before that run's strategy is built. Use it to hand the same
            bars to anything a strategy reads outside the engine, so bias through that door is
            caught too.
        sharpe_limit: replaces the bar frequency's Sharpe limit above which the reference
            run's result is flagged as suspicious (see `lookahead_suspicion`).

    Raises:
        ConfigError: the strategy places different orders on two runs over identical bars.
        DataNotFoundError, DataQualityError: as `load_frames`.
    """
    if checks < 1:
        raise ValueError(f"checks must be at least 1, got {checks}")
    frames, _ = load_frames(strategy_config, data, config)
    replay = _Replay(strategy_config, config, prepare, universe_calendar(strategy_config, data))
    reference_run = replay.run(frames)
    reference = _decisions(reference_run)
    if replay.decisions(frames) != reference:
        raise strategy_config.error(
            "class",
            f"{strategy_config.class_path} placed different orders on two runs over the same "
            "bars; the look-ahead check needs a deterministic strategy (draw random numbers "
            "only from the seeded `random` or `numpy.random`)",
        )
    times: list[datetime] = list(reference_run.index.to_pydatetime())
    step_of = {ts: i for i, ts in enumerate(times)}
    order_steps = sorted({step_of[d.submitted_at] for d in reference})
    points = choose_points(len(times), order_steps, checks, seed)
    busy = set(order_steps)
    biased: list[BiasFinding] = []
    later_changed = 0
    for done, step in enumerate(points, start=1):
        t = times[step]
        rng = np.random.default_rng([seed, step])
        expected = reference[: bisect_right(reference, t, key=_submitted_at)]
        changed = False
        for direction in (1.0, -1.0):
            perturbed = replay.decisions(perturb_after(frames, t, rng, direction))
            finding = compare_decisions(
                t, expected, perturbed[: bisect_right(perturbed, t, key=_submitted_at)]
            )
            changed = changed or perturbed != reference
            if finding is not None:
                biased.append(finding)
                break
        later_changed += changed
        if progress is not None:
            progress(done, len(points))
    if prepare is not None:
        prepare(frames)
    capital = float(config.initial_capital)
    return LookaheadReport(
        checked_points=[times[i] for i in points],
        biased=biased,
        reference_orders=len(reference),
        result=judge_result(
            np.concatenate(([capital], reference_run.equity)),
            config.periods_per_year or periods_per_year(reference_run.index),
            reference_run.trades,
            sharpe_limit=sharpe_limit,
        ),
        points_with_orders=sum(1 for i in points if i in busy),
        later_changed=later_changed,
        outside_data_checked=prepare is not None,
    )


def choose_points(steps: int, order_steps: Sequence[int], checks: int, seed: int) -> list[int]:
    """Up to `checks` step indices to check, ascending, spread over the run.

    About three in four are steps with orders (all of them when there are few), the rest steps
    without; the last step is never chosen, as no bar comes after it.
    """
    rng = np.random.default_rng(seed)
    last = steps - 1
    busy = np.array(sorted({i for i in order_steps if i < last}), dtype=np.int64)
    quiet = np.setdiff1d(np.arange(max(last, 0), dtype=np.int64), busy)
    n_quiet = min(len(quiet), max(1, checks // 4) if len(busy) else checks)
    n_busy = min(len(busy), checks - n_quiet)
    n_quiet = min(len(quiet), checks - n_busy)
    chosen = np.concatenate((_spread(busy, n_busy, rng), _spread(quiet, n_quiet, rng)))
    return sorted(int(i) for i in chosen)


def _spread(candidates: IntArray, k: int, rng: np.random.Generator) -> IntArray:
    """`k` of `candidates` (ascending): one drawn from each of `k` equal consecutive chunks."""
    if k >= len(candidates):
        return candidates
    if k == 0:
        return candidates[:0]
    chunks = np.array_split(candidates, k)
    return np.array([chunk[rng.integers(len(chunk))] for chunk in chunks], dtype=np.int64)


def perturb_after(
    frames: dict[str, pd.DataFrame], t: datetime, rng: np.random.Generator, direction: float = 1.0
) -> dict[str, pd.DataFrame]:
    """Copies of `frames` with every bar after `t` scaled by a strong random path.

    The path jumps by exp(direction * JUMP) at the first bar after `t`, then walks with
    STEP_VOL per bar (independently per symbol); opens get extra gap noise, highs and lows are
    widened to keep high >= max(open, close) and low <= min(open, close), volumes are scaled by
    their own noise. Prices stay positive; bars at or before `t` are untouched.
    """
    cutoff = pd.Timestamp(t)
    out: dict[str, pd.DataFrame] = {}
    for symbol, frame in frames.items():
        k = int(frame.index.searchsorted(cutoff, side="right"))
        m = len(frame) - k
        if m == 0:
            out[symbol] = frame
            continue
        values = frame[list(BAR_COLUMNS)].to_numpy(dtype=np.float64, copy=True)
        later = values[k:]  # a view: edits land in `values`
        level = np.exp(direction * JUMP + np.cumsum(rng.normal(0.0, STEP_VOL, m)))
        open_ = later[:, _OPEN] * level * np.exp(rng.normal(0.0, GAP_VOL, m))
        close = later[:, _CLOSE] * level
        later[:, _HIGH] = np.maximum(later[:, _HIGH] * level, np.maximum(open_, close))
        later[:, _LOW] = np.minimum(later[:, _LOW] * level, np.minimum(open_, close))
        later[:, _OPEN] = open_
        later[:, _CLOSE] = close
        later[:, _VOLUME] *= np.exp(rng.normal(0.0, VOLUME_VOL, m))
        out[symbol] = pd.DataFrame(values, index=frame.index, columns=list(BAR_COLUMNS))
    return out


def compare_decisions(
    t: datetime, reference: Sequence[Decision], perturbed: Sequence[Decision]
) -> BiasFinding | None:
    """The first difference between two runs' decisions up to `t`, as a finding (None: equal)."""
    for i in range(max(len(reference), len(perturbed))):
        ref = reference[i] if i < len(reference) else None
        new = perturbed[i] if i < len(perturbed) else None
        if ref == new:
            continue
        at = min(d.submitted_at for d in (ref, new) if d is not None)
        detail = (
            f"{_when(t)}: reference {_describe(ref)}, perturbed {_describe(new)}; "
            f"the strategy's decision at {_when(at)} depends on data after {_when(t)}"
        )
        return BiasFinding(decision_point=t, reference=ref, perturbed=new, detail=detail)
    return None


class _Replay:
    """Runs the strategy from scratch on given bars: seeded, no metrics, no report."""

    def __init__(
        self,
        strategy_config: StrategyConfig,
        config: BacktestConfig,
        prepare: FramesHook | None,
        calendar: str | None,
    ) -> None:
        self._strategy_config = strategy_config
        self._config = config
        self._prepare = prepare
        self._calendar = calendar

    def run(self, frames: dict[str, pd.DataFrame]) -> EngineRun:
        if self._prepare is not None:
            self._prepare(frames)
        # exactly run()'s engine part: same seeding, same warm-up start
        return run_engine(self._strategy_config, frames, self._config, calendar=self._calendar)

    def decisions(self, frames: dict[str, pd.DataFrame]) -> list[Decision]:
        return _decisions(self.run(frames))


def _decisions(run: EngineRun) -> list[Decision]:
    return [
        Decision(
            r.submitted_at,
            r.order.symbol,
            r.order.side,
            r.order.quantity,
            r.order.type,
            r.order.limit_price,
            r.order.stop_price,
        )
        for r in run.orders
    ]


def _describe(decision: Decision | None) -> str:
    return "(no order)" if decision is None else decision.describe()


def _submitted_at(decision: Decision) -> datetime:
    return decision.submitted_at


def _when(moment: datetime) -> str:
    """A date for midnight timestamps (daily bars), else date and time."""
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.isoformat(sep=" ", timespec="minutes")
