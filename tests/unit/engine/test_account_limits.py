"""The risk policy's account-level limits hold across every strategy on the account (ADR 0043):
each book gets its budget's part of max_positions, and every book's gross cap is the account's,
so the books together never hold more symbols nor deploy more than the account allows."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quant_domain import Bar, ConfigError, MarketState, Signal, SignalDirection
from quant_engine import BacktestConfig
from quant_engine.account import PaperAccount
from quant_engine.risk_gate import GateLimits, Reason, RiskGate
from quant_engine.risk_policy import RiskPolicy
from quant_marketdata.replay import replay_steps
from quant_strategy import Strategy, StrategyConfig, StrategyParams, build_strategy
from quant_strategy.config import RiskCaps
from tests.factories import random_walk

SYMBOLS = [f"S{k:02d}" for k in range(12)]
CAPITAL = Decimal(100_000)
FREE = BacktestConfig(
    initial_capital=CAPITAL, commission_per_trade=Decimal(0), slippage_bps=Decimal(0)
)


class HoldAll(Strategy[StrategyParams]):
    """Wants every symbol of its universe, all the time: only its caps stop it."""

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        return [Signal(s, SignalDirection.LONG, state.timestamp) for s in self.symbols]


def _config(strategy_id: str, budget: int) -> StrategyConfig:
    return StrategyConfig.model_validate(
        {
            "id": strategy_id,
            "class": f"{__name__}:HoldAll",
            "universe": SYMBOLS,
            "timeframe": "1m",
            "budget": str(budget),
            "risk": {"max_position_pct": 0.2, "max_gross_exposure": 1.0},
        }
    )


def _steps(n: int = 60) -> list[tuple[object, list[Bar]]]:
    frames = {}
    for k, symbol in enumerate(SYMBOLS):
        walk = random_walk(n, seed=k + 7, freq="1min")
        walk.index = pd.date_range("2024-03-05 14:30", periods=n, freq="1min", tz="UTC")
        frames[symbol] = walk
    return list(replay_steps(frames))


def _trade(policy: RiskPolicy | None, budgets: dict[str, int]) -> list[tuple[int, float]]:
    """Every step of an account whose books trade under `policy` (None: their own caps):
    (positions held over all books, gross exposure over all books / account equity)."""
    configs = [_config(sid, budget) for sid, budget in budgets.items()]
    if policy is not None:
        configs = [policy.applied_to(c, float(Decimal(budgets[c.id]) / CAPITAL)) for c in configs]
    account = PaperAccount([build_strategy(c) for c in configs], FREE, calendar="XNYS", daily=False)
    seen = []
    for now, bars in _steps():
        account.on_bars(now, bars)  # type: ignore[arg-type]
        summary = account.summary()
        held = sum(len(book.positions) for book in summary.books)
        seen.append((held, float(summary.gross_exposure / summary.equity)))
    return seen


def test_positions_share_is_the_budgets_part_of_max_positions_rounded_down() -> None:
    policy = RiskPolicy.model_validate({"account": {"max_positions": 10}})
    assert [policy.positions_share(s) for s in (1.0, 0.5, 0.25, 0.1, 0.09)] == [10, 5, 2, 1, 0]


@given(st.lists(st.integers(min_value=1, max_value=1_000), min_size=1, max_size=12))
def test_the_books_parts_of_max_positions_add_up_to_at_most_the_accounts(
    weights: list[int],
) -> None:
    policy = RiskPolicy()
    total = sum(weights) + 1  # budgets fit the capital, as allocate() insists
    parts = [policy.positions_share(w / total) for w in weights]
    assert sum(parts) <= policy.account.max_positions


def test_a_book_whose_part_of_max_positions_is_none_is_refused_naming_it() -> None:
    policy = RiskPolicy.model_validate({"account": {"max_positions": 10}})
    with pytest.raises(ConfigError) as info:
        policy.applied_to(_config("tiny", 5_000), 0.05)
    assert info.value.field == "strategies.tiny"
    assert "5.0% of the account" in info.value.message
    assert "max_positions (10)" in info.value.message


def test_two_books_under_the_policy_hold_at_most_the_accounts_positions_together() -> None:
    policy = RiskPolicy.model_validate({"account": {"max_positions": 6}})
    budgets = {"left": 50_000, "right": 50_000}
    under = _trade(policy, budgets)
    alone = _trade(None, budgets)
    assert max(held for held, _ in under) == 6  # 3 each: the account's 6, never more
    assert max(held for held, _ in alone) > 6  # each book alone would take 5


def test_two_books_under_the_policy_deploy_at_most_the_accounts_capital_share() -> None:
    policy = RiskPolicy.model_validate({"account": {"max_positions": 10}})
    budgets = {"left": 60_000, "right": 30_000}  # 10,000 stays unallocated
    under = _trade(policy, budgets)
    alone = _trade(None, budgets)
    cap = policy.account.max_capital_deployed
    assert max(share for _, share in under) <= cap + 1e-9
    assert max(share for _, share in alone) > cap


def test_a_running_book_whose_part_became_none_opens_nothing_and_may_still_reduce() -> None:
    limits = GateLimits.from_caps(RiskCaps(max_position_pct=1.0, max_positions=5), ["A", "B"])
    qty, last, held = [10.0, 0.0], [100.0, 100.0], [0]
    gate = RiskGate(limits, qty, last, held)
    RiskPolicy.model_validate({"account": {"max_positions": 10}}).tighten(
        gate, _config("tiny", 5_000), 0.05
    )
    assert gate.check(1, 1.0, 0.0, 100_000.0, 0.0, True) == Reason.MAX_OPEN_POSITIONS
    assert "part of the account's max_positions is 0" in gate.message(
        Reason.MAX_OPEN_POSITIONS, 1, 1.0, 0.0, 100_000.0
    )
    assert gate.check(0, -5.0, 0.0, 100_000.0, 0.0, True) == Reason.OK
