"""Several strategies on one account: each trades its own book, funded with its capital budget,
and the account is the sum of the books plus the capital no strategy was given (ADR 0030).

A book is a strategy's own Ledger: its cash, positions, fees and PnL, changed only by its own
fills, so two strategies holding the same symbol never mix. The account's position in a symbol
(what its broker holds) is the sum of the books' positions in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from quant_domain import Bar, ConfigError, KillSwitchMode, to_decimal
from quant_domain.instruments import Instrument
from quant_domain.ports import OrderJournal
from quant_engine.backtest import EngineRun
from quant_engine.config import BacktestConfig
from quant_engine.ledger import Ledger
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Difference, Reconciliation, ReconciliationState
from quant_strategy import Strategy, StrategyConfig


@dataclass(frozen=True, slots=True)
class Allocation:
    """How an account's capital is split among the strategies that trade on it."""

    account: str
    capital: Decimal
    budgets: Mapping[str, Decimal]
    """strategy id -> the capital its book starts with (its budget, else the whole capital)."""

    @property
    def unallocated(self) -> Decimal:
        """Capital no strategy was given: it stays in the account as cash."""
        return self.capital - sum(self.budgets.values(), Decimal(0))


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def allocate(account: str, capital: Decimal, configs: Sequence[StrategyConfig]) -> Allocation:
    """Each strategy's budget on `account`, checked before any of them starts.

    A strategy without a budget takes the whole capital, so it can only trade alone; budgets
    together may not exceed the capital, so the books never promise money the account lacks.

    Raises:
        ConfigError: no strategy, one strategy listed twice, a budget above the capital (with
            its file and line), or budgets adding up to more than the capital (naming each
            strategy, its budget and where it is written).
    """
    if not configs:
        raise ConfigError(f"no strategy to run on account {account}", field="strategies")
    budgets: dict[str, Decimal] = {}
    for config in configs:
        if config.id in budgets:
            raise config.error(
                "id", f"{config.id} is listed twice on account {account}: one book per strategy"
            )
        if config.budget is not None and config.budget > capital:
            raise config.error(
                "budget",
                f"{config.id}'s budget {_money(config.budget)} is more than account {account}'s "
                f"capital {_money(capital)}",
            )
        budgets[config.id] = capital if config.budget is None else config.budget
    total = sum(budgets.values(), Decimal(0))
    if total > capital:
        parts = []
        for config in configs:
            where = config.location("budget")
            if config.budget is None:
                what = "no budget: the whole account"
            else:
                what = f"budget {_money(config.budget)}"
            parts.append(f"{config.id} ({what}{', ' + where if where else ''})")
        raise ConfigError(
            f"the strategies on account {account} have budgets adding up to {_money(total)}, "
            f"more than its capital {_money(capital)}: {'; '.join(parts)}. Give each strategy a "
            "budget, together at most the capital",
            field="budget",
        )
    return Allocation(account=account, capital=capital, budgets=budgets)


def book_config(config: BacktestConfig, budget: Decimal) -> BacktestConfig:
    """The run settings of a strategy's book: the account's costs, fills and sizing, starting
    with `budget` as its capital. A backtest under these is the book's own backtest."""
    return config.model_copy(update={"initial_capital": budget})


@dataclass(frozen=True, slots=True)
class BookSummary:
    """One strategy's book at the last prices: what its fills alone made of its budget."""

    strategy_id: str
    budget: Decimal
    cash: Decimal
    equity: Decimal
    gross_exposure: Decimal
    fees: Decimal
    positions: Mapping[str, Decimal]

    @property
    def pnl(self) -> Decimal:
        """Profit or loss of the book so far (realised and at the last prices), after fees."""
        return self.equity - self.budget


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The account across its strategies: the capital no book holds plus every book."""

    account: str
    capital: Decimal
    unallocated: Decimal
    cash: Decimal
    equity: Decimal
    gross_exposure: Decimal
    positions: Mapping[str, Decimal]
    """Net quantity per symbol over every book: what the account's broker holds."""
    books: tuple[BookSummary, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (money and quantities as decimal strings)."""

        def quantities(positions: Mapping[str, Decimal]) -> dict[str, str]:
            return {symbol: str(quantity) for symbol, quantity in positions.items()}

        return {
            "account": self.account,
            "capital": str(self.capital),
            "unallocated": str(self.unallocated),
            "cash": str(self.cash),
            "equity": str(self.equity),
            "gross_exposure": str(self.gross_exposure),
            "positions": quantities(self.positions),
            "books": [
                {
                    "strategy_id": book.strategy_id,
                    "budget": str(book.budget),
                    "cash": str(book.cash),
                    "equity": str(book.equity),
                    "gross_exposure": str(book.gross_exposure),
                    "fees": str(book.fees),
                    "pnl": str(book.pnl),
                    "positions": quantities(book.positions),
                }
                for book in self.books
            ],
        }


def book_summary(strategy_id: str, budget: Decimal, ledger: Ledger) -> BookSummary:
    """`ledger`'s state as the book of `strategy_id`, valued at its last prices."""
    positions: dict[str, Decimal] = {}
    gross = Decimal(0)
    for symbol, position in ledger.positions.items():
        if position.quantity:
            positions[symbol] = position.quantity
            gross += abs(position.quantity) * to_decimal(ledger.last[ledger.index[symbol]])
    return BookSummary(
        strategy_id=strategy_id,
        budget=budget,
        cash=ledger.cash_dec,
        equity=ledger.equity_decimal(),
        gross_exposure=gross,
        fees=ledger.fees_dec,
        positions=positions,
    )


def summarise(allocation: Allocation, ledgers: Mapping[str, Ledger]) -> AccountSummary:
    """The account from its books' ledgers (one per strategy of `allocation`, by strategy id)."""
    if set(ledgers) != set(allocation.budgets):
        raise ValueError(
            f"ledgers for {sorted(ledgers)}, but account {allocation.account} allocates to "
            f"{sorted(allocation.budgets)}"
        )
    books = tuple(
        book_summary(strategy_id, budget, ledgers[strategy_id])
        for strategy_id, budget in allocation.budgets.items()
    )
    net: dict[str, Decimal] = {}
    for book in books:
        for symbol, quantity in book.positions.items():
            net[symbol] = net.get(symbol, Decimal(0)) + quantity
    unallocated = allocation.unallocated
    return AccountSummary(
        account=allocation.account,
        capital=allocation.capital,
        unallocated=unallocated,
        cash=unallocated + sum((b.cash for b in books), Decimal(0)),
        equity=unallocated + sum((b.equity for b in books), Decimal(0)),
        gross_exposure=sum((b.gross_exposure for b in books), Decimal(0)),
        positions={symbol: quantity for symbol, quantity in sorted(net.items()) if quantity},
        books=books,
    )


_WORST = (ReconciliationState.CLEAN, ReconciliationState.PENDING, ReconciliationState.BLOCKED)


def account_reconciliation(books: Mapping[str, Reconciliation]) -> Reconciliation:
    """The account's reconciliation from each book's (by strategy id): the worst state (one
    BLOCKED book blocks the account's row, one PENDING leaves it pending), every difference
    keyed "strategy: key", checked when the last book was. Store this as the account's row
    (one per account): saving each book's outcome in turn would let a later CLEAN book hide an
    earlier BLOCKED one."""
    if not books:
        raise ValueError("no book to reconcile")
    state = max((outcome.state for outcome in books.values()), key=_WORST.index)
    differences = tuple(
        Difference(d.kind, f"{strategy_id}: {d.key}", d.broker, d.ours)
        for strategy_id, outcome in books.items()
        for d in outcome.differences
    )
    return Reconciliation(state, differences, max(o.checked_at for o in books.values()))


class PaperAccount:
    """Several strategies paper-trading one account, each in its own PaperSession and book.

    Each session is exactly what `PaperSession` is alone, started with its strategy's budget
    as capital (`book_config`), so each strategy's orders are those of its own backtest under
    the same budget. The account hands each session the bars of its own universe (a step
    without any is not a step for that strategy, as in its backtest) and applies kill-switch
    modes to all of them.
    """

    def __init__(
        self,
        strategies: Sequence[Strategy[Any]],
        config: BacktestConfig,
        *,
        account: str = "paper",
        calendar: str | None = None,
        daily: bool = True,
        instruments: Mapping[str, Instrument] | None = None,
        journals: Mapping[str, OrderJournal] | None = None,
    ) -> None:
        """`strategies` are initialised; `config.initial_capital` is the account's capital, the
        rest of `config` (costs, fill timing, sizing) applies to every book; `journals` gives
        each strategy id its order journal (one paper run per strategy).

        Raises:
            ConfigError: the budgets do not fit the account (see `allocate`).
        """
        self.allocation = allocate(account, config.initial_capital, [s.config for s in strategies])
        journals = journals or {}
        self.sessions: dict[str, PaperSession] = {}
        self._universes: dict[str, frozenset[str]] = {}
        for strategy in strategies:
            strategy_id = strategy.config.id
            self.sessions[strategy_id] = PaperSession(
                strategy,
                book_config(config, self.allocation.budgets[strategy_id]),
                calendar=calendar,
                daily=daily,
                account=account,
                instruments=instruments,
                journal=journals.get(strategy_id),
            )
            self._universes[strategy_id] = frozenset(strategy.config.universe)

    def bars_for(self, strategy_id: str, bars: Sequence[Bar]) -> list[Bar]:
        """The bars of `bars` in that strategy's universe."""
        universe = self._universes[strategy_id]
        return [bar for bar in bars if bar.symbol in universe]

    def set_mode(self, mode: KillSwitchMode) -> None:
        """The account's kill-switch mode, for every strategy on it."""
        for session in self.sessions.values():
            session.set_mode(mode)

    def warm_up(self, now: datetime, bars: Sequence[Bar]) -> None:
        """A step of history before trading, for each strategy that has bars in it."""
        for strategy_id, session in self.sessions.items():
            mine = self.bars_for(strategy_id, bars)
            if mine:
                session.warm_up(now, mine)

    def on_bars(self, now: datetime, bars: Sequence[Bar], *, final: bool = False) -> None:
        """The bars that closed at `now`, one step for each strategy that has bars in them."""
        for strategy_id, session in self.sessions.items():
            mine = self.bars_for(strategy_id, bars)
            if mine:
                session.on_bars(now, mine, final=final)

    def end_session(self) -> None:
        """The trading session closed: every strategy's session ends."""
        for session in self.sessions.values():
            session.end_session()

    def summary(self) -> AccountSummary:
        """Cash, equity, gross exposure and positions of the account and of each book now."""
        return summarise(
            self.allocation, {sid: session.ledger for sid, session in self.sessions.items()}
        )

    def close(self) -> dict[str, EngineRun]:
        """End every session (working orders cancelled); each strategy's result by its id."""
        return {strategy_id: session.close() for strategy_id, session in self.sessions.items()}
