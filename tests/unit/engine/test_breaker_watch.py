"""The policy's breakers inside a backtest: tripped on the right bar, applied to later orders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quant_domain import Bar, KillSwitchMode
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, build_timeline
from quant_engine.breaker_watch import BreakerWatch, session_key
from quant_engine.breakers import DAILY_LOSS, DRAWDOWN, RELEASE
from quant_engine.paper import PaperSession
from quant_engine.risk_policy import AccountLimits, RiskPolicy
from quant_engine.sessions import session_calendar
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config

NO_COSTS = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))
LIMITS = AccountLimits(daily_loss_limit=0.02, max_drawdown=0.10, calendar="24H")


def _run(
    closes: list[float], script: dict[int, str], freq: str, watch: BreakerWatch | None
) -> tuple[EngineRun, BacktestEngine]:
    engine = BacktestEngine(NO_COSTS)
    strategy = build_strategy(strategy_config(params={"script": script}))
    timeline = build_timeline({"TEST": frame(closes, freq=freq)})
    return engine.run(strategy, timeline, observer=watch), engine


def test_daily_loss_pauses_entries_for_the_rest_of_the_session_then_releases() -> None:
    # hourly bars on the 24-hour calendar: steps 0-23 are one session, 24-25 the next
    closes = [100.0, 100.0, 97.0, 97.0, 97.0] + [97.0] * 19 + [97.0, 97.0]
    script = {0: "long", 3: "flat", 4: "long", 25: "long"}
    watch = BreakerWatch(LIMITS)
    run, engine = _run(closes, script, "h", watch)
    assert [(t.rule, s) for t, s in zip(watch.trips, watch.steps, strict=True)] == [
        (DAILY_LOSS, 2),  # -3 % from the session's opening equity
        (RELEASE, 24),  # the first mark of the next session
    ]
    assert [(r.order.side.value, r.status.value, r.code) for r in run.orders] == [
        ("buy", "filled", ""),
        ("sell", "filled", ""),  # a reduction passes reduce_only
        ("buy", "rejected", "REDUCE_ONLY"),
        ("buy", "filled", ""),  # released
    ]
    assert engine.loop.mode is KillSwitchMode.ACTIVE


def test_drawdown_flattens_at_the_tripping_bar_and_stays_halted() -> None:
    closes = [100.0, 101.0, 100.0, 99.0, 98.0, 97.0, 95.0, 90.5, 89.0, 95.0, 99.0]
    watch = BreakerWatch(LIMITS.model_copy(update={"daily_loss_limit": 0.03}))
    run, engine = _run(closes, {0: "long", 9: "long"}, "D", watch)
    # peak 101 (step 1); 90.5 is -10.4 % from it (and -4.7 % on the day): both trip at step 7
    assert [(t.rule, s) for t, s in zip(watch.trips, watch.steps, strict=True)] == [
        (DAILY_LOSS, 7),
        (DRAWDOWN, 7),
    ]
    assert watch.summary()[1]["at"].startswith(str(engine.timeline.times[7].date()))
    sell = run.orders[1]
    assert (sell.order.side.value, sell.status.value) == ("sell", "filled")
    assert run.fills[-1].price == Decimal("90.5")  # flattened at the tripping bar's close
    assert run.final_positions == {}
    assert engine.loop.mode is KillSwitchMode.FLATTEN_AND_HALT
    assert run.equity[-1] == run.equity[8]  # nothing traded after the halt


def test_backtest_without_a_watch_is_unchanged() -> None:
    closes = [100.0, 101.0, 100.0, 99.0, 98.0, 97.0, 95.0, 90.5, 89.0, 95.0, 99.0]
    plain, _ = _run(closes, {0: "long"}, "D", None)
    assert plain.final_positions == {"TEST": Decimal(1000)}
    assert len(plain.orders) == 1


def test_session_key_follows_the_exchange_session_not_the_utc_day() -> None:
    xnys = session_calendar("XNYS")
    monday_close = datetime(2024, 3, 4, 20, tzinfo=UTC)  # in Monday's session (closes 21:00)
    monday_late = datetime(2024, 3, 4, 22, tzinfo=UTC)  # after hours: Tuesday's session
    tuesday = datetime(2024, 3, 5, 15, tzinfo=UTC)
    assert session_key(xnys, monday_close, False) != session_key(xnys, monday_late, False)
    assert session_key(xnys, monday_late, False) == session_key(xnys, tuesday, False)


def test_a_policy_tightens_a_running_gate_from_the_next_order() -> None:
    config = strategy_config(params={"script": {0: "long", 2: "flat", 3: "long"}})
    session = PaperSession(build_strategy(config), NO_COSTS, daily=True)
    for step, ts in enumerate(frame([100.0] * 4).index):
        if step == 2:  # a policy arrives between steps: a position may hold 20 % of equity
            RiskPolicy().tighten(session.loop.gate, config)
        at = ts.to_pydatetime()  # type: ignore[attr-defined]
        session.on_bars(at, [Bar("TEST", at, 100.0, 100.0, 100.0, 100.0, 1000.0)])
    codes = [(r.order.side.value, r.status.value, r.code) for r in session.result().orders]
    assert codes == [
        ("buy", "filled", ""),  # before the policy: the whole equity
        ("sell", "filled", ""),  # a reduction passes
        ("buy", "rejected", "POSITION_PCT_CAP"),  # the default sizer still asks for it all
    ]
    assert session.loop.gate.limits.max_position_pct == pytest.approx(0.2)
    assert session.loop.gate.limits.max_gross_exposure == 0.8
