"""Several strategies on one account: budgets checked at start, one book each, the account summed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from quant_domain import ConfigError, Fill, KillSwitchMode, OrderSide
from quant_engine import BacktestConfig, BacktestEngine, Ledger, build_timeline
from quant_engine.account import (
    PaperAccount,
    account_reconciliation,
    allocate,
    book_config,
    summarise,
)
from quant_engine.paper import equal_runs
from quant_engine.reconciliation import (
    Difference,
    DifferenceKind,
    Reconciliation,
    ReconciliationState,
)
from quant_marketdata import SampleSource
from quant_marketdata.replay import replay_steps
from quant_strategy import (
    StrategyConfig,
    build_strategy,
    load_strategy_config,
    parse_strategy_config,
)

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
CAPITAL = Decimal(100_000)
NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _config(strategy_id: str, budget: str | None, file: str | None = None) -> StrategyConfig:
    text = (
        f"id: {strategy_id}\nclass: quant_strategy.builtin.momentum:SmaCrossover\n"
        "universe: [SP500]\n"
    )
    if budget is not None:
        text += f"budget: {budget}\n"
    return parse_strategy_config(text, file or f"{strategy_id}.yaml")


# -- allocation at start -------------------------------------------------------------------------
def test_budgets_that_fit_leave_the_rest_of_the_capital_unallocated() -> None:
    allocation = allocate("paper", CAPITAL, [_config("a", "60000"), _config("b", "25000.50")])
    assert allocation.budgets == {"a": Decimal(60_000), "b": Decimal("25000.50")}
    assert allocation.unallocated == Decimal("14999.50")


def test_a_strategy_without_a_budget_takes_the_whole_account_when_alone() -> None:
    allocation = allocate("paper", CAPITAL, [_config("a", None)])
    assert allocation.budgets == {"a": CAPITAL}
    assert allocation.unallocated == 0


def test_budgets_over_the_capital_are_refused_naming_each_strategy_and_where() -> None:
    with pytest.raises(ConfigError) as info:
        allocate("paper", CAPITAL, [_config("a", "60000"), _config("b", "50000")])
    err = info.value
    assert err.field == "budget"
    assert err.message == (
        "the strategies on account paper have budgets adding up to 110,000.00, more than its "
        "capital 100,000.00: a (budget 60,000.00, a.yaml:4); b (budget 50,000.00, b.yaml:4). "
        "Give each strategy a budget, together at most the capital"
    )


def test_a_strategy_without_a_budget_cannot_share_the_account() -> None:
    with pytest.raises(ConfigError) as info:
        allocate("paper", CAPITAL, [_config("a", "10000"), _config("b", None)])
    assert "b (no budget: the whole account, b.yaml)" in info.value.message


def test_a_budget_above_the_capital_names_its_file_line_and_field() -> None:
    with pytest.raises(ConfigError) as info:
        allocate("paper", CAPITAL, [_config("a", "150000")])
    err = info.value
    assert (err.file, err.line, err.field) == ("a.yaml", 4, "budget")
    assert "a's budget 150,000.00 is more than account paper's capital 100,000.00" in err.message


def test_a_strategy_listed_twice_and_an_empty_account_are_refused() -> None:
    with pytest.raises(ConfigError, match="listed twice on account paper"):
        allocate("paper", CAPITAL, [_config("a", "1000"), _config("a", "1000", "again.yaml")])
    with pytest.raises(ConfigError, match="no strategy to run on account paper"):
        allocate("paper", CAPITAL, [])


def test_a_book_config_is_the_account_config_with_the_budget_as_capital() -> None:
    account = BacktestConfig(slippage_bps=Decimal(5))
    book = book_config(account, Decimal(30_000))
    assert book.initial_capital == Decimal(30_000)
    assert book.model_dump(exclude={"initial_capital"}) == account.model_dump(
        exclude={"initial_capital"}
    )


# -- the account summed from its books ------------------------------------------------------------
def _fill(symbol: str, side: OrderSide, quantity: int, price: int, fee: str = "1") -> Fill:
    return Fill("f", "c", symbol, side, Decimal(quantity), Decimal(price), Decimal(fee), NOW)


def test_the_account_is_the_unallocated_capital_plus_every_book() -> None:
    allocation = allocate("paper", CAPITAL, [_config("a", "60000"), _config("b", "30000")])
    a = Ledger(["SP500", "X"], Decimal(60_000))
    b = Ledger(["SP500"], Decimal(30_000))
    a.apply(_fill("SP500", OrderSide.BUY, 10, 2_000))  # cash 39,999
    a.apply(_fill("X", OrderSide.BUY, 100, 50))  # cash 34,998
    b.apply(_fill("SP500", OrderSide.BUY, 5, 2_000))  # cash 19,999
    b.apply(_fill("SP500", OrderSide.SELL, 2, 2_100))  # cash 24,198
    a.last[:] = [2_200.0, 40.0]
    b.last[:] = [2_200.0]
    summary = summarise(allocation, {"a": a, "b": b})
    book_a, book_b = summary.books
    assert (book_a.cash, book_a.equity, book_a.gross_exposure) == (
        Decimal(34_998),
        Decimal(34_998 + 22_000 + 4_000),
        Decimal(26_000),
    )
    assert (book_b.cash, book_b.equity, book_b.pnl) == (
        Decimal(24_198),
        Decimal(24_198 + 6_600),
        Decimal(24_198 + 6_600 - 30_000),
    )
    assert summary.cash == Decimal(10_000 + 34_998 + 24_198)
    assert summary.equity == Decimal(10_000) + book_a.equity + book_b.equity
    assert summary.gross_exposure == Decimal(26_000 + 6_600)
    assert summary.positions == {"SP500": Decimal(13), "X": Decimal(100)}  # what the broker holds
    assert book_a.positions == {"SP500": Decimal(10), "X": Decimal(100)}
    assert book_b.positions == {"SP500": Decimal(3)}
    assert Decimal(summary.to_json()["books"][1]["pnl"]) == Decimal(798)


def test_a_summary_needs_one_ledger_per_allocated_strategy() -> None:
    allocation = allocate("paper", CAPITAL, [_config("a", "60000"), _config("b", "30000")])
    with pytest.raises(ValueError, match="allocates to"):
        summarise(allocation, {"a": Ledger(["SP500"], Decimal(60_000))})


# -- paper trading on one account -----------------------------------------------------------------
def _sample() -> dict[str, pd.DataFrame]:
    frame = SampleSource().get_bars("SP500").loc["2014-01-01":"2016-12-31"]
    return {"SP500": frame}


def _momentum(budget: int) -> StrategyConfig:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    return config.updated(benchmark=None, start=None, end=None, budget=Decimal(budget))


def _ladder(budget: int) -> StrategyConfig:
    return StrategyConfig.model_validate(
        {
            "id": "ladder",
            "class": "tests.spending_strategies:Ladder",
            "universe": ["SP500"],
            "params": {"units": 5, "every": 5, "sell_every": 60},
            "budget": budget,
        }
    )


def test_two_strategies_on_one_symbol_each_trade_as_their_own_backtest_under_their_budget() -> None:
    frames = _sample()
    configs = [_momentum(50_000), _ladder(30_000)]
    bt = BacktestConfig()
    account = PaperAccount(
        [build_strategy(c) for c in configs], bt, account="paper-1", calendar="XNYS"
    )
    steps = list(replay_steps(frames))
    for j, (now, bars) in enumerate(steps):
        account.on_bars(now, bars, final=j == len(steps) - 1)
    summary = account.summary()
    runs = account.close()
    timeline = build_timeline(frames, "XNYS")
    for config in configs:
        budget = account.allocation.budgets[config.id]
        backtest = BacktestEngine(book_config(bt, budget)).run(
            build_strategy(config), timeline, account="paper-1"
        )
        assert equal_runs(runs[config.id], backtest) == []
        assert runs[config.id].equity[0] <= float(budget)  # each book starts with its budget
    momentum, ladder = runs["momentum_v1"], runs["ladder"]
    assert momentum.fills
    assert ladder.fills
    refused = [r for r in ladder.orders if r.code == "BUDGET_CAP"]
    assert refused
    assert all("its budget is 30,000.00" in r.reason for r in refused)
    assert not any(r.code == "BUDGET_CAP" for r in momentum.orders)
    # the books never mix: each one's position is its own fills, the account's their sum
    for book, run in zip(summary.books, (momentum, ladder), strict=True):
        bought = sum(
            (f.quantity if f.side is OrderSide.BUY else -f.quantity for f in run.fills),
            Decimal(0),
        )
        assert book.positions.get("SP500", Decimal(0)) == bought
        assert book.gross_exposure <= book.budget
    assert summary.positions.get("SP500", Decimal(0)) == sum(
        (b.positions.get("SP500", Decimal(0)) for b in summary.books), Decimal(0)
    )
    assert summary.equity == summary.unallocated + sum(
        (b.equity for b in summary.books), Decimal(0)
    )
    assert summary.unallocated == Decimal(20_000)
    ids = {r.order.client_order_id for run in runs.values() for r in run.orders}
    assert len(ids) == len(momentum.orders) + len(ladder.orders)  # no id shared across books


def test_each_strategy_gets_only_the_bars_of_its_own_universe() -> None:
    frames = {
        "SP500": _sample()["SP500"].iloc[:30],
        "NASDAQ": SampleSource().get_bars("NASDAQ").loc["2014-01-01":].iloc[:30],
    }
    nasdaq = _ladder(30_000).updated(id="ladder_nasdaq", universe=["NASDAQ"])
    account = PaperAccount(
        [build_strategy(_ladder(30_000)), build_strategy(nasdaq)], BacktestConfig()
    )
    for now, bars in replay_steps(frames):
        account.on_bars(now, bars)
    assert account.sessions["ladder"].timeline.symbols == ["SP500"]
    assert {f.symbol for f in account.close()["ladder_nasdaq"].fills} == {"NASDAQ"}


def test_the_kill_switch_reaches_every_strategy_on_the_account() -> None:
    account = PaperAccount(
        [build_strategy(_ladder(30_000)), build_strategy(_momentum(50_000))], BacktestConfig()
    )
    account.set_mode(KillSwitchMode.HALT_ENTRIES)
    assert {s.mode for s in account.sessions.values()} == {KillSwitchMode.HALT_ENTRIES}


def test_budgets_that_do_not_fit_stop_the_account_before_any_session_exists() -> None:
    with pytest.raises(ConfigError, match=r"adding up to 110,000\.00"):
        PaperAccount(
            [build_strategy(_ladder(60_000)), build_strategy(_momentum(50_000))],
            BacktestConfig(),
        )


# -- reconciliation of the account ----------------------------------------------------------------
def _outcome(state: ReconciliationState, *keys: str, minutes: int = 0) -> Reconciliation:
    found = tuple(Difference(DifferenceKind.POSITION_MISMATCH, k, "5", "3") for k in keys)
    return Reconciliation(state, found, NOW + timedelta(minutes=minutes))


def test_one_blocked_book_blocks_the_account_whatever_order_the_books_come_in() -> None:
    blocked = _outcome(ReconciliationState.BLOCKED, "SP500")
    clean = _outcome(ReconciliationState.CLEAN, minutes=1)
    for books in ({"a": blocked, "b": clean}, {"b": clean, "a": blocked}):
        outcome = account_reconciliation(books)
        assert outcome.state is ReconciliationState.BLOCKED
        assert [d.key for d in outcome.differences] == ["a: SP500"]
        assert outcome.checked_at == NOW + timedelta(minutes=1)


def test_the_account_is_clean_only_when_every_book_is() -> None:
    clean = _outcome(ReconciliationState.CLEAN)
    pending = _outcome(ReconciliationState.PENDING)
    assert account_reconciliation({"a": clean, "b": clean}).state is ReconciliationState.CLEAN
    assert account_reconciliation({"a": clean, "b": pending}).state is ReconciliationState.PENDING
    with pytest.raises(ValueError, match="no book"):
        account_reconciliation({})
