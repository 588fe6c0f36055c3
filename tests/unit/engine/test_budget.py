"""A strategy's capital budget: the sizer deploys at most it and the risk gate refuses growth past it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quant_domain import (
    Bar,
    CostModel,
    Fill,
    MarketState,
    Order,
    OrderSide,
    OrderStatus,
    PortfolioView,
    PositionSizing,
    Signal,
    SignalDirection,
    SizingMode,
    to_decimal,
)
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, Ledger, build_timeline
from quant_engine.portfolio import PortfolioReader
from quant_engine.risk_gate import GateLimits, Reason, RiskGate
from quant_engine.vectorised import unsupported_reason
from quant_strategy import (
    RiskCaps,
    SignalThresholds,
    Strategy,
    StrategyParams,
    build_strategy,
    signals_to_orders,
)
from tests.factories import frame, strategy_config

SYMBOLS = ["AAPL", "MSFT", "TSLA"]
EQUITY = 100_000.0
T = 1_700_000_000.0
NOW = datetime(2024, 1, 2, tzinfo=UTC)
NO_COSTS = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))


def _gate(
    budget: float | None,
    qty: tuple[float, ...] = (0.0, 0.0, 0.0),
    last: tuple[float, ...] = (100.0, 50.0, 20.0),
    **caps: Any,
) -> RiskGate:
    limits = GateLimits.from_caps(
        RiskCaps(**caps), SYMBOLS, None, None if budget is None else Decimal(str(budget))
    )
    held = [k for k, q in enumerate(qty) if q]
    return RiskGate(limits, list(qty), list(last), held)


def _check(gate: RiskGate, k: int, signed_qty: float, equity: float = EQUITY) -> int:
    return gate.check(k, signed_qty, 0.0, equity, T, True)


# -- the rule ------------------------------------------------------------------------------------
def test_budget_cap_passes_at_the_budget_and_refuses_past_it_naming_the_budget() -> None:
    gate = _gate(30_000)
    assert _check(gate, 0, 300) == Reason.OK  # 30,000 of AAPL
    assert _check(gate, 0, 301) == Reason.BUDGET_CAP
    assert gate.message(Reason.BUDGET_CAP, 0, 301, 0.0, EQUITY) == (
        "buy 301 AAPL would make the strategy's gross exposure 30,100.00; its budget is 30,000.00"
    )


def test_without_a_budget_the_limit_is_off() -> None:
    gate = _gate(None)
    assert gate.limits.budget == math.inf
    assert _check(gate, 0, 1_000) == Reason.OK  # all of the equity


def test_budget_counts_held_longs_and_shorts_and_orders_on_their_way() -> None:
    # 100 x 100 + |-200| x 50 = 20,000 held; 6,000 of TSLA sent: 4,000 of room left
    gate = _gate(30_000, qty=(100, -200, 0), allow_short=True)
    gate.accepted(2, 300, T)
    assert _check(gate, 2, 200) == Reason.OK
    assert _check(gate, 2, 201) == Reason.BUDGET_CAP
    assert _check(gate, 1, -80) == Reason.OK  # a bigger short grows exposure too: 4,000
    assert _check(gate, 1, -81) == Reason.BUDGET_CAP


def test_reductions_pass_when_prices_took_the_book_over_its_budget() -> None:
    # 400 AAPL bought under the budget, now worth 40,000 > 30,000
    gate = _gate(30_000, qty=(400, 0, 0), allow_short=True)
    assert _check(gate, 0, -100) == Reason.OK
    assert _check(gate, 0, -700) == Reason.OK  # a flip that ends smaller (short 300)
    assert _check(gate, 0, 1) == Reason.BUDGET_CAP
    assert _check(gate, 1, 1) == Reason.BUDGET_CAP


def test_the_budget_binds_where_the_gross_cap_in_percent_of_equity_allows_more() -> None:
    gate = _gate(30_000, max_position_pct=2.0, max_gross_exposure=2.0)  # 200,000 by %
    assert _check(gate, 0, 301) == Reason.BUDGET_CAP
    over_both = _gate(30_000, max_gross_exposure=0.1)  # 10,000 by %: that rule comes first
    assert _check(over_both, 0, 301) == Reason.GROSS_EXPOSURE_CAP


def test_a_budget_of_float_rounding_dust_more_still_passes() -> None:
    gate = _gate(30_000.0)
    assert _check(gate, 0, 30_000.0 / 100.0 * (1 + 1e-12)) == Reason.OK


# -- in the decision loop ------------------------------------------------------------------------
class _Buyer(Strategy[StrategyParams]):
    """Sends `orders` on the first step, ignoring its budget (risk_check overridden)."""

    orders: ClassVar[list[tuple[OrderSide, Decimal]]] = []

    def on_start(self) -> None:
        self.sent = False

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self.sent:
            return []
        self.sent = True
        return [Signal("TEST", SignalDirection.LONG, state.timestamp)]

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals, portfolio
        return [Order("TEST", side, quantity) for side, quantity in self.orders]


def _run(orders: list[tuple[OrderSide, Decimal]], budget: int | None) -> EngineRun:
    strategy = type("S", (_Buyer,), {"orders": orders})()
    strategy.initialize(strategy_config(budget=budget))
    return BacktestEngine(NO_COSTS).run(strategy, build_timeline({"TEST": frame([100.0, 101])}))


def test_a_backtest_refuses_an_order_past_the_budget_with_its_code_and_message() -> None:
    run = _run([(OrderSide.BUY, Decimal(200)), (OrderSide.BUY, Decimal(101))], budget=30_000)
    first, second = run.orders
    assert first.status is OrderStatus.FILLED
    assert (second.status, second.code) == (OrderStatus.REJECTED, "BUDGET_CAP")
    assert "its budget is 30,000.00" in second.reason
    assert run.final_positions == {"TEST": Decimal(200)}


def test_the_same_orders_pass_without_a_budget() -> None:
    run = _run([(OrderSide.BUY, Decimal(200)), (OrderSide.BUY, Decimal(101))], budget=None)
    assert [r.status for r in run.orders] == [OrderStatus.FILLED, OrderStatus.FILLED]


def test_the_fast_path_leaves_a_budgeted_strategy_to_the_event_loop() -> None:
    config = strategy_config(
        **{"class": "quant_strategy.builtin.momentum:SmaCrossover"},
        params={"fast": 2, "slow": 3},
    )
    assert unsupported_reason(build_strategy(config), BacktestConfig()) is None
    budgeted = config.updated(budget=Decimal(10_000))
    assert unsupported_reason(build_strategy(budgeted), BacktestConfig()) == (
        "a capital budget is only enforced by the event loop (its sizer and risk gate)"
    )


# -- the default sizer ---------------------------------------------------------------------------
def _view(cash: int, *, held: float = 0.0, fixed: int | None = None) -> PortfolioReader:
    ledger = Ledger(["A", "B"], Decimal(cash))
    if held:
        ledger.apply(
            Fill("f", "c", "A", OrderSide.BUY, to_decimal(held), Decimal(100), Decimal(0), NOW)
        )
    ledger.last[:] = [100.0, 50.0]
    sizing = (
        PositionSizing()
        if fixed is None
        else PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(fixed))
    )
    costs = CostModel(commission_per_trade=Decimal(1), slippage_bps=Decimal(10))
    return PortfolioReader(ledger, sizing.model_copy(update={"expected_costs": costs}))


def _sized(view: PortfolioReader, budget: int | None, *signals: Signal) -> list[tuple[str, Any]]:
    orders = signals_to_orders(
        list(signals),
        view,
        risk=RiskCaps(),
        thresholds=SignalThresholds(),
        strategy_id="s",
        budget=None if budget is None else Decimal(budget),
    )
    return [(o.symbol, o.quantity) for o in orders]


def test_fraction_sizing_deploys_the_budget_when_the_equity_is_larger() -> None:
    long_a = Signal("A", SignalDirection.LONG, NOW)
    # (30,000 - 1 fee) / (100 x 1.001) = 299.7 -> 299 whole units
    assert _sized(_view(100_000), 30_000, long_a) == [("A", Decimal(299))]
    assert _sized(_view(100_000), None, long_a) == [("A", Decimal(998))]


def test_fraction_sizing_deploys_the_equity_when_losses_took_it_below_the_budget() -> None:
    long_a = Signal("A", SignalDirection.LONG, NOW)
    assert _sized(_view(20_000), 30_000, long_a) == [("A", Decimal(199))]


def test_fixed_sizing_is_scaled_into_the_budget_with_what_is_held() -> None:
    # 100 A held (10,000): 20,000 of room, so B gets 400 of the 1,000 asked
    view = _view(100_000, held=100, fixed=1_000)
    assert _sized(view, 30_000, Signal("B", SignalDirection.LONG, NOW)) == [("B", Decimal(400))]


@st.composite
def budgeted_books(draw: st.DrawFn) -> dict[str, Any]:
    """A random book, its prices drifted since entry, a budget and the signals of a step."""
    symbols = ["S0", "S1", "S2"]
    allow_short = draw(st.booleans())
    ledger = Ledger(symbols, Decimal(draw(st.integers(1_000, 500_000))))
    for k, symbol in enumerate(symbols):
        entry = Decimal(draw(st.integers(100, 50_000))) / 100
        units = Decimal(draw(st.integers(-200 if allow_short else 0, 200)))
        if units:
            side = OrderSide.BUY if units > 0 else OrderSide.SELL
            ledger.apply(Fill(f"f{k}", "c", symbol, side, abs(units), entry, Decimal(0), NOW))
        ledger.last[k] = float(entry) * draw(st.sampled_from([0.5, 1.0, 2.0]))
    sizing = PositionSizing(
        mode=draw(st.sampled_from(list(SizingMode))),
        fraction=draw(st.sampled_from([0.3, 1.0, 2.0])),
        quantity=Decimal(draw(st.integers(1, 500))),
        expected_costs=CostModel(slippage_bps=Decimal(draw(st.sampled_from(["0", "10"])))),
    )
    caps = RiskCaps(
        max_position_pct=draw(st.sampled_from([0.2, 1.0, 2.0])),
        max_gross_exposure=draw(st.sampled_from([0.5, 1.0, 3.0])),
        allow_short=allow_short,
    )
    wanted = draw(
        st.dictionaries(
            st.sampled_from(symbols),
            st.tuples(st.sampled_from(list(SignalDirection)), st.sampled_from([0.5, 1.0])),
        )
    )
    return {
        "ledger": ledger,
        "view": PortfolioReader(ledger, sizing),
        "caps": caps,
        "budget": Decimal(draw(st.integers(500, 400_000))),
        "signals": [Signal(s, d, NOW, strength=x) for s, (d, x) in wanted.items()],
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budgeted_books())
def test_orders_the_default_sizer_makes_under_a_budget_always_pass_the_gate(
    book: dict[str, Any],
) -> None:
    ledger: Ledger = book["ledger"]
    orders = signals_to_orders(
        book["signals"],
        book["view"],
        risk=book["caps"],
        thresholds=SignalThresholds(),
        strategy_id="s",
        budget=book["budget"],
    )
    limits = GateLimits.from_caps(book["caps"], ledger.symbols, None, book["budget"])
    gate = RiskGate(limits, ledger.qty, ledger.last, ledger.held)
    equity = ledger.equity
    batch = [
        (ledger.index[o.symbol], float(o.quantity) * (1 if o.side is OrderSide.BUY else -1))
        for o in orders
    ]
    for k, signed in sorted(batch, key=lambda b: gate.grows(*b)):
        code = gate.check(k, signed, 0.0, equity, T, True)
        assert code == Reason.OK, gate.message(code, k, signed, 0.0, equity)
        gate.accepted(k, signed, T)
