"""The engine's risk gate: each rule's pass and reject side with its code and message, the
kill-switch modes, pending orders, the order-rate window, and the default sizer never refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from quant_domain import (
    CostModel,
    Fill,
    KillSwitchMode,
    OrderSide,
    PositionSizing,
    Signal,
    SignalDirection,
    SizingMode,
    to_decimal,
)
from quant_engine import BacktestConfig, Ledger, PortfolioReader
from quant_engine.risk_gate import GateLimits, Reason, RiskGate, reason_name
from quant_engine.vectorised import unsupported_reason
from quant_strategy import (
    RiskCaps,
    SignalThresholds,
    build_strategy,
    load_strategy_config,
    signals_to_orders,
)

SYMBOLS = ["AAPL", "MSFT", "TSLA"]
EQUITY = 100_000.0
T = 1_700_000_000.0  # POSIX seconds
NOW = datetime(2024, 1, 2, tzinfo=UTC)
CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def _gate(
    qty: tuple[float, ...] = (0.0, 0.0, 0.0),
    last: tuple[float, ...] = (100.0, 50.0, 20.0),
    shortable: list[bool] | None = None,
    **caps: Any,
) -> RiskGate:
    limits = GateLimits.from_caps(RiskCaps(**caps), SYMBOLS, shortable)
    held = [k for k, q in enumerate(qty) if q]
    return RiskGate(limits, list(qty), list(last), held)


def _check(gate: RiskGate, k: int, signed_qty: float, price: float = 0.0, **kw: Any) -> int:
    return gate.check(
        k, signed_qty, price, kw.get("equity", EQUITY), kw.get("now", T), kw.get("open", True)
    )


# -- codes and limits ----------------------------------------------------------------------------
def test_reason_codes_are_stable_and_zero_means_pass() -> None:
    assert {r.name: int(r) for r in Reason} == {
        "OK": 0,
        "SHORT_NOT_ALLOWED": 1,
        "POSITION_QTY_CAP": 2,
        "POSITION_PCT_CAP": 3,
        "GROSS_EXPOSURE_CAP": 4,
        "MAX_OPEN_POSITIONS": 5,
        "ORDER_NOTIONAL_CAP": 6,
        "PRICE_COLLAR": 7,
        "ORDER_RATE": 8,
        "MARKET_CLOSED": 9,
        "HALT_ENTRIES": 10,
        "REDUCE_ONLY": 11,
        "FLATTEN_AND_HALT": 12,
        "RECONCILIATION_PENDING": 13,
        "BUDGET_CAP": 14,
        "FEED_STALE": 15,
    }
    assert reason_name(1) == "SHORT_NOT_ALLOWED"
    assert reason_name(0) == "OK"


def test_limits_from_default_caps_turn_the_new_caps_off() -> None:
    limits = GateLimits.from_caps(RiskCaps(), SYMBOLS)
    assert limits.max_position_qty == math.inf
    assert limits.max_order_notional == math.inf
    assert limits.price_collar_pct == math.inf
    assert (limits.max_positions, limits.max_orders_per_minute) == (0, 0)
    assert (limits.max_position_pct, limits.max_gross_exposure) == (1.0, 1.0)
    assert limits.can_short == (False, False, False)


def test_limits_short_only_where_the_config_and_the_instrument_both_allow_it() -> None:
    limits = GateLimits.from_caps(RiskCaps(allow_short=True), SYMBOLS, [True, False, True])
    assert limits.can_short == (True, False, True)
    limits = GateLimits.from_caps(RiskCaps(allow_short=False), SYMBOLS, [True, True, True])
    assert limits.can_short == (False, False, False)


def test_limits_refuse_a_shortable_list_of_another_length() -> None:
    with pytest.raises(ValueError, match="shortable has 2 flags for 3 symbols"):
        GateLimits.from_caps(RiskCaps(), SYMBOLS, [True, True])


def test_gate_refuses_ledger_lists_that_do_not_match_the_symbols() -> None:
    limits = GateLimits.from_caps(RiskCaps(), SYMBOLS)
    with pytest.raises(ValueError, match="qty has 2 and last 3 entries for 3 symbols"):
        RiskGate(limits, [0.0, 0.0], [1.0, 1.0, 1.0], [])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_position_qty", 0),
        ("max_order_notional", -5),
        ("price_collar_pct", 0),
        ("price_collar_pct", 5),  # 5 means 500 %: almost surely meant 0.05
        ("max_orders_per_minute", 0),
    ],
)
def test_new_caps_must_be_positive_and_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        RiskCaps(**{field: value})


def test_new_caps_default_to_off() -> None:
    caps = RiskCaps()
    assert (
        caps.max_position_qty,
        caps.max_order_notional,
        caps.price_collar_pct,
        caps.max_orders_per_minute,
    ) == (None, None, None, None)


# -- shorting ------------------------------------------------------------------------------------
def test_short_sale_rejected_when_allow_short_is_false() -> None:
    gate = _gate()
    assert _check(gate, 0, -10) == Reason.SHORT_NOT_ALLOWED
    assert gate.message(1, 0, -10, 0.0, EQUITY) == (
        "sell 10 AAPL would leave AAPL short 10; allow_short is false"
    )


def test_selling_a_long_down_to_flat_is_not_a_short() -> None:
    assert _check(_gate(qty=(10, 0, 0)), 0, -10) == Reason.OK


def test_selling_past_flat_is_a_short() -> None:
    assert _check(_gate(qty=(10, 0, 0)), 0, -15) == Reason.SHORT_NOT_ALLOWED


def test_short_rejected_for_an_instrument_that_is_not_shortable() -> None:
    gate = _gate(shortable=[False, True, True], allow_short=True)
    assert _check(gate, 0, -10) == Reason.SHORT_NOT_ALLOWED
    assert gate.message(1, 0, -10, 0.0, EQUITY).endswith("; AAPL is not shortable")
    assert _check(gate, 1, -10) == Reason.OK


# -- per-symbol caps -----------------------------------------------------------------------------
def test_position_quantity_cap_passes_at_the_cap_and_rejects_past_it() -> None:
    gate = _gate(qty=(60, 0, 0), max_position_qty=100)
    assert _check(gate, 0, 40) == Reason.OK
    assert _check(gate, 0, 41) == Reason.POSITION_QTY_CAP
    assert gate.message(2, 0, 41, 0.0, EQUITY) == (
        "position in AAPL would be 101 units; max_position_qty is 100"
    )


def test_position_pct_cap_passes_at_the_cap_and_rejects_past_it() -> None:
    gate = _gate(max_position_pct=0.5)
    assert _check(gate, 0, 500) == Reason.OK  # 500 x 100 = 50 % of 100,000
    assert _check(gate, 0, 501) == Reason.POSITION_PCT_CAP
    assert gate.message(3, 0, 501, 0.0, EQUITY) == (
        "position in AAPL would be 501 units = 50.1% of equity; max_position_pct is 50%"
    )


def test_position_pct_cap_counts_shorts_by_size() -> None:
    gate = _gate(allow_short=True, max_position_pct=0.5)
    assert _check(gate, 0, -500) == Reason.OK
    assert _check(gate, 0, -501) == Reason.POSITION_PCT_CAP


def test_position_sized_exactly_to_the_cap_by_float_division_passes() -> None:
    # the FIXED sizer targets max_position_pct x equity / price exactly
    equity, price = 12_345.67, 3.3
    gate = _gate(last=(price, 1.0, 1.0), max_position_pct=0.37)
    assert _check(gate, 0, 0.37 * equity / price, equity=equity) == Reason.OK


def test_a_position_without_a_last_price_fails_closed() -> None:
    gate = _gate(last=(0.0, 50.0, 20.0))
    assert _check(gate, 0, 1) == Reason.POSITION_PCT_CAP
    assert "AAPL has no last price" in gate.message(3, 0, 1, 0.0, EQUITY)


def test_an_unknown_equity_fails_closed() -> None:
    assert _check(_gate(), 0, 1, equity=math.nan) == Reason.POSITION_PCT_CAP


def test_reductions_pass_even_when_the_position_is_over_every_cap() -> None:
    gate = _gate(qty=(2_000, 0, 0), max_position_pct=0.5, max_position_qty=100)
    assert _check(gate, 0, -500) == Reason.OK
    assert _check(gate, 0, 1) == Reason.POSITION_QTY_CAP


# -- gross exposure and open positions -----------------------------------------------------------
def test_gross_cap_counts_every_held_position_long_and_short() -> None:
    # 400 x 100 + |-600| x 50 = 70,000 held; TSLA at 20 has room for 1,500 more
    gate = _gate(qty=(400, -600, 0), allow_short=True)
    assert _check(gate, 2, 1_500) == Reason.OK
    assert _check(gate, 2, 1_501) == Reason.GROSS_EXPOSURE_CAP
    assert gate.message(4, 2, 1_501, 0.0, EQUITY) == (
        "buy 1,501 TSLA would make gross exposure 100,020.00 = 100.0% of equity; "
        "max_gross_exposure is 100%"
    )


def test_gross_cap_counts_pending_orders_on_flat_symbols_and_pending_closes() -> None:
    gate = _gate(max_gross_exposure=0.1)  # 10,000
    gate.accepted(0, 60, T)  # 6,000 of AAPL on its way
    assert _check(gate, 2, 200) == Reason.OK  # + 4,000 of TSLA
    assert _check(gate, 2, 201) == Reason.GROSS_EXPOSURE_CAP
    closing = _gate(qty=(100, 0, 0), max_gross_exposure=0.1)
    closing.accepted(0, -100, T)  # the 10,000 held is being sold
    assert _check(closing, 2, 500) == Reason.OK


def test_a_flip_that_ends_smaller_passes_the_gross_cap_even_when_over_it() -> None:
    # prices rose: 1,200 x 100 is 120 % of equity, over the 100 % cap
    gate = _gate(qty=(1_200, 0, 0), allow_short=True, max_position_pct=2.0)
    assert _check(gate, 0, -1_800) == Reason.OK  # ends short 600: less exposure than now
    assert _check(gate, 0, -2_500) == Reason.GROSS_EXPOSURE_CAP  # ends short 1,300


def test_max_positions_rejects_a_new_symbol_when_full_but_lets_held_ones_grow() -> None:
    gate = _gate(qty=(10, -5, 0), allow_short=True, max_positions=2)
    assert _check(gate, 2, 1) == Reason.MAX_OPEN_POSITIONS
    assert gate.message(5, 2, 1, 0.0, EQUITY) == (
        "buy 1 TSLA would open a position while 2 are open; max_positions is 2"
    )
    assert _check(gate, 0, 10) == Reason.OK
    assert _check(gate, 1, -5) == Reason.OK


def test_a_pending_close_frees_a_position_slot() -> None:
    gate = _gate(qty=(10, 5, 0), max_positions=2)
    gate.accepted(0, -10, T)
    assert gate.open_positions() == 1
    assert _check(gate, 2, 1) == Reason.OK


def test_a_pending_entry_takes_a_position_slot() -> None:
    gate = _gate(max_positions=1)
    gate.accepted(0, 10, T)
    assert gate.open_positions() == 1
    assert _check(gate, 2, 1) == Reason.MAX_OPEN_POSITIONS


# -- order notional and price collar -------------------------------------------------------------
def test_order_notional_cap_values_a_market_order_at_the_last_close() -> None:
    gate = _gate(max_order_notional=10_000)
    assert _check(gate, 0, 100) == Reason.OK
    assert _check(gate, 0, 101) == Reason.ORDER_NOTIONAL_CAP
    assert gate.message(6, 0, 101, 0.0, EQUITY) == (
        "buy 101 AAPL at 100.00 is 10,100.00 notional; max_order_notional is 10,000.00"
    )


def test_order_notional_cap_values_a_priced_order_at_its_price() -> None:
    gate = _gate(max_order_notional=10_000)
    assert _check(gate, 0, 90, price=111.0) == Reason.OK  # 9,990
    assert _check(gate, 0, 91, price=111.0) == Reason.ORDER_NOTIONAL_CAP  # 10,101


def test_order_notional_cap_never_blocks_a_reduction() -> None:
    assert _check(_gate(qty=(500, 0, 0), max_order_notional=10_000), 0, -500) == Reason.OK


def test_price_collar_passes_inside_and_rejects_outside_the_band() -> None:
    gate = _gate(price_collar_pct=0.05)
    assert _check(gate, 0, 1, price=105.0) == Reason.OK
    assert _check(gate, 0, 1, price=95.0) == Reason.OK
    assert _check(gate, 0, 1, price=105.01) == Reason.PRICE_COLLAR
    assert _check(gate, 0, 1, price=94.99) == Reason.PRICE_COLLAR
    assert _check(gate, 0, 1, price=0.0) == Reason.OK  # a market order has no price to collar
    assert gate.message(7, 0, 1, 106.0, EQUITY) == (
        "order price 106.00 is 6.00% from AAPL's last price 100.00; price_collar_pct is 5%"
    )


def test_price_collar_applies_to_reductions_too() -> None:
    assert _check(_gate(qty=(10, 0, 0), price_collar_pct=0.05), 0, -10, price=80.0) == (
        Reason.PRICE_COLLAR
    )


def test_a_priced_order_without_a_last_price_fails_the_collar() -> None:
    gate = _gate(last=(0.0, 50.0, 20.0), price_collar_pct=0.05)
    assert _check(gate, 0, 1, price=100.0) == Reason.PRICE_COLLAR
    assert gate.message(7, 0, 1, 100.0, EQUITY) == (
        "AAPL has no last price to hold the order price 100.00 against"
    )


def test_no_collar_lets_any_price_through() -> None:
    assert _check(_gate(), 0, 1, price=1_000.0) == Reason.OK


# -- order rate and market hours -----------------------------------------------------------------
def test_order_rate_counts_orders_sent_in_the_trailing_minute() -> None:
    gate = _gate(max_orders_per_minute=3)
    for offset in (0.0, 10.0, 20.0):
        assert _check(gate, 0, 1, now=T + offset) == Reason.OK
        gate.accepted(0, 1, T + offset)
    assert _check(gate, 0, 1, now=T + 30.0) == Reason.ORDER_RATE
    assert _check(gate, 0, 1, now=T + 59.999) == Reason.ORDER_RATE
    assert _check(gate, 0, 1, now=T + 60.0) == Reason.OK  # the first order left the window
    assert gate.message(8, 0, 1, 0.0, EQUITY) == (
        "3 orders were already sent in the 60 s before buy 1 AAPL; max_orders_per_minute is 3"
    )
    gate.accepted(0, 1, T + 60.0)
    assert _check(gate, 0, 1, now=T + 65.0) == Reason.ORDER_RATE  # 10, 20 and 60 are in
    assert _check(gate, 0, 1, now=T + 70.0) == Reason.OK


def test_checks_alone_do_not_count_toward_the_rate() -> None:
    gate = _gate(max_orders_per_minute=1)
    assert [_check(gate, 0, 1) for _ in range(5)] == [Reason.OK] * 5


def test_order_rate_applies_to_reductions() -> None:
    gate = _gate(qty=(10, 0, 0), max_orders_per_minute=1)
    gate.accepted(0, -1, T)
    assert _check(gate, 0, -1, now=T + 1.0) == Reason.ORDER_RATE


def test_closed_market_rejects_entries_and_reductions() -> None:
    gate = _gate(qty=(10, 0, 0))
    assert _check(gate, 0, 1, open=False) == Reason.MARKET_CLOSED
    assert _check(gate, 0, -10, open=False) == Reason.MARKET_CLOSED
    assert gate.message(9, 0, 1, 0.0, EQUITY) == "the market for AAPL is closed (buy 1 AAPL)"


# -- kill-switch modes ---------------------------------------------------------------------------
def test_gate_starts_active() -> None:
    assert _gate().mode is KillSwitchMode.ACTIVE


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        (KillSwitchMode.HALT_ENTRIES, Reason.HALT_ENTRIES),
        (KillSwitchMode.REDUCE_ONLY, Reason.REDUCE_ONLY),
    ],
)
def test_halting_modes_reject_entries_growth_and_flips_but_pass_reductions(
    mode: KillSwitchMode, code: Reason
) -> None:
    gate = _gate(qty=(100, -50, 0), allow_short=True)
    gate.mode = mode
    assert gate.mode is mode
    assert _check(gate, 2, 1) == code  # opens
    assert _check(gate, 0, 1) == code  # grows a long
    assert _check(gate, 1, -1) == code  # grows a short
    assert _check(gate, 0, -150) == code  # flips long to short
    assert _check(gate, 0, -40) == Reason.OK
    assert _check(gate, 0, -100) == Reason.OK
    assert _check(gate, 1, 50) == Reason.OK
    assert gate.message(code, 2, 1, 0.0, EQUITY) == (
        f"the kill switch is {mode.value}: only orders that reduce a position pass, "
        "and buy 1 TSLA would take TSLA from 0 to 1"
    )


def test_flatten_and_halt_rejects_every_order_even_reductions() -> None:
    gate = _gate(qty=(100, 0, 0))
    gate.mode = KillSwitchMode.FLATTEN_AND_HALT
    assert _check(gate, 0, -100) == Reason.FLATTEN_AND_HALT
    assert _check(gate, 2, 1, open=False) == Reason.FLATTEN_AND_HALT
    assert gate.message(12, 0, -100, 0.0, EQUITY) == (
        "the kill switch is flatten_and_halt: no order is accepted (sell 100 AAPL)"
    )


def test_mode_can_be_set_from_the_stored_value_and_released() -> None:
    gate = _gate()
    gate.mode = KillSwitchMode("halt_entries")
    assert _check(gate, 0, 1) == Reason.HALT_ENTRIES
    gate.mode = KillSwitchMode.ACTIVE
    assert _check(gate, 0, 1) == Reason.OK


# -- pending orders ------------------------------------------------------------------------------
def test_a_pending_buy_counts_toward_the_position_cap() -> None:
    gate = _gate(max_position_pct=0.5)
    gate.accepted(0, 300, T)
    assert gate.pending(0) == 300
    assert _check(gate, 0, 200) == Reason.OK
    assert _check(gate, 0, 201) == Reason.POSITION_PCT_CAP


def test_a_fill_moves_pending_into_the_ledger_without_counting_it_twice() -> None:
    qty = [0.0, 0.0, 0.0]
    held: list[int] = []
    gate = RiskGate(
        GateLimits.from_caps(RiskCaps(max_position_pct=0.5), SYMBOLS),
        qty,
        [100.0, 50.0, 20.0],
        held,
    )
    gate.accepted(0, 300, T)
    qty[0] = 100.0  # the ledger books a partial fill
    held.append(0)
    gate.filled(0, 100)
    assert gate.pending(0) == 200
    assert _check(gate, 0, 200) == Reason.OK
    assert _check(gate, 0, 201) == Reason.POSITION_PCT_CAP
    gate.released(0, 200)  # the rest is cancelled
    assert gate.pending(0) == 0
    assert _check(gate, 0, 400) == Reason.OK
    assert _check(gate, 0, 401) == Reason.POSITION_PCT_CAP


def test_a_reduction_is_judged_against_the_position_including_pending_orders() -> None:
    gate = _gate(qty=(100, 0, 0))
    gate.accepted(0, -100, T)  # closing sell already sent
    assert _check(gate, 0, -10) == Reason.SHORT_NOT_ALLOWED
    gate.mode = KillSwitchMode.HALT_ENTRIES
    assert _check(gate, 0, -10) == Reason.HALT_ENTRIES


def test_pending_orders_that_close_a_fractional_position_leave_no_dust() -> None:
    gate = _gate(qty=(0.3, 0, 0), max_positions=1)
    gate.accepted(0, -0.1, T)
    gate.accepted(0, -0.2, T)
    assert gate.open_positions() == 0
    assert _check(gate, 1, 1) == Reason.OK


# -- checking a step's batch ---------------------------------------------------------------------
def test_a_batch_checked_growth_last_passes_when_it_fits_once_done() -> None:
    # short 100 AAPL (10,000) is being covered while 100 MSFT (5,000) is bought: 5,000 at the end
    orders = [(1, 100.0), (0, 100.0)]
    in_given_order = _gate(qty=(-100, 0, 0), allow_short=True, max_gross_exposure=0.1)
    assert _check(in_given_order, *orders[0]) == Reason.GROSS_EXPOSURE_CAP
    gate = _gate(qty=(-100, 0, 0), allow_short=True, max_gross_exposure=0.1)
    codes = []
    for k, q in sorted(orders, key=lambda o: gate.grows(*o)):
        codes.append((k, _check(gate, k, q)))
        gate.accepted(k, q, T)
    assert codes == [(0, Reason.OK), (1, Reason.OK)]


# -- the default sizer is never refused ----------------------------------------------------------
@st.composite
def sized_books(draw: st.DrawFn) -> dict[str, Any]:
    """A random account and signals, with caps the default sizer knows (min_trade_pct aside)."""
    n = draw(st.integers(1, 5))
    symbols = [f"S{i}" for i in range(n)]
    allow_short = draw(st.booleans())
    fractional = draw(st.booleans())
    sizing = PositionSizing(
        mode=draw(st.sampled_from(list(SizingMode))),
        fraction=draw(st.sampled_from([0.1, 0.3, 0.5, 1.0, 2.0])),
        quantity=Decimal(draw(st.integers(1, 500))),
        fractional=fractional,
    )
    costs = CostModel(
        commission_per_trade=Decimal(draw(st.sampled_from(["0", "1.00"]))),
        commission_bps=Decimal(draw(st.sampled_from(["0", "2.5"]))),
        slippage_bps=Decimal(draw(st.sampled_from(["0", "10"]))),
    )
    caps = RiskCaps(
        max_position_pct=draw(st.sampled_from([0.05, 0.2, 0.5, 1.0, 2.0])),
        max_gross_exposure=draw(st.sampled_from([0.3, 0.5, 1.0, 1.5, 3.0])),
        allow_short=allow_short,
        max_positions=draw(st.one_of(st.none(), st.integers(1, 4))),
    )
    ledger = Ledger(symbols, Decimal(draw(st.integers(1_000, 1_000_000))))
    scale = 1000 if fractional else 1  # whole units unless the account trades fractions
    for k, symbol in enumerate(symbols):
        entry = Decimal(draw(st.integers(100, 100_000))) / 100
        units = Decimal(draw(st.integers(-300 * scale if allow_short else 0, 300 * scale))) / scale
        if units:
            side = OrderSide.BUY if units > 0 else OrderSide.SELL
            ledger.apply(Fill(f"f{k}", "c", symbol, side, abs(units), entry, Decimal(0), NOW))
        # prices drift after entry, so held positions may sit over a cap already
        ledger.last[k] = float(entry) * draw(st.sampled_from([0.5, 0.9, 1.0, 1.1, 2.0]))
    wanted = draw(
        st.dictionaries(
            st.sampled_from(symbols),
            st.tuples(st.sampled_from(list(SignalDirection)), st.sampled_from([0.1, 0.5, 1.0])),
        )
    )
    signals = [Signal(s, d, NOW, strength=x) for s, (d, x) in wanted.items()]
    view = PortfolioReader(ledger, sizing.model_copy(update={"expected_costs": costs}))
    return {
        "ledger": ledger,
        "view": view,
        "caps": caps,
        "signals": signals,
        "fill": draw(st.booleans()),
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sized_books())
def test_orders_the_default_sizer_makes_always_pass_the_gate_under_the_same_caps(
    book: dict[str, Any],
) -> None:
    ledger: Ledger = book["ledger"]
    caps: RiskCaps = book["caps"]
    orders = signals_to_orders(
        book["signals"], book["view"], risk=caps, thresholds=SignalThresholds(), strategy_id="s"
    )
    gate = RiskGate(
        GateLimits.from_caps(caps, ledger.symbols), ledger.qty, ledger.last, ledger.held
    )
    equity = ledger.equity  # what the sizer sized with
    batch = [
        (ledger.index[o.symbol], float(o.quantity) * (1 if o.side is OrderSide.BUY else -1), o)
        for o in orders
    ]
    batch.sort(key=lambda b: gate.grows(b[0], b[1]))
    for k, signed, order in batch:
        code = gate.check(k, signed, 0.0, equity, T, True)
        assert code == Reason.OK, gate.message(code, k, signed, 0.0, equity)
        gate.accepted(k, signed, T)
        if book["fill"]:  # filled at the close before the next order is checked
            price = to_decimal(ledger.last[k])
            ledger.apply(
                Fill("x", "c", order.symbol, order.side, order.quantity, price, Decimal(0), NOW)
            )
            gate.filled(k, signed)
            assert gate.pending(k) == 0


def test_a_small_reduction_the_sizer_skips_can_leave_its_growth_over_the_gross_cap() -> None:
    # min_trade_pct skips trimming A from 30 to 24 units (600 < 1,000), but B is sized as if A
    # had been trimmed: 30 x 100 + 51 x 50 = 5,550 > 50 % of 10,000. The gate holds the cap.
    costs = CostModel(commission_per_trade=Decimal(0), slippage_bps=Decimal(0))
    ledger = Ledger(["A", "B"], Decimal(10_000))
    view = PortfolioReader(ledger, PositionSizing(expected_costs=costs))
    ledger.apply(Fill("f", "c", "A", OrderSide.BUY, Decimal(30), Decimal(100), Decimal(0), NOW))
    ledger.last[:] = [100.0, 50.0]
    caps = RiskCaps(max_position_pct=0.5, max_gross_exposure=0.5, min_trade_pct=0.1)
    signals = [
        Signal("A", SignalDirection.LONG, NOW, strength=0.28),
        Signal("B", SignalDirection.LONG, NOW, strength=0.3),
    ]
    orders = signals_to_orders(
        signals, view, risk=caps, thresholds=SignalThresholds(), strategy_id="s"
    )
    assert [(o.symbol, o.side, o.quantity) for o in orders] == [("B", OrderSide.BUY, Decimal(51))]
    gate = RiskGate(
        GateLimits.from_caps(caps, ledger.symbols), ledger.qty, ledger.last, ledger.held
    )
    assert gate.check(1, 51.0, 0.0, ledger.equity, T, True) == Reason.GROSS_EXPOSURE_CAP


# -- the fast path -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cap", "value"),
    [
        ("max_position_qty", 100.0),
        ("max_order_notional", 10_000.0),
        ("price_collar_pct", 0.05),
        ("max_orders_per_minute", 30),
    ],
)
def test_fast_path_refuses_a_strategy_with_a_cap_only_the_gate_enforces(
    cap: str, value: float
) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    assert unsupported_reason(build_strategy(config), BacktestConfig()) is None
    config = config.updated(risk=config.risk.model_copy(update={cap: value}))
    assert unsupported_reason(build_strategy(config), BacktestConfig()) == (
        f"risk.{cap} is only enforced by the event loop's risk gate"
    )


def test_while_reconciliation_is_pending_every_order_is_refused_even_a_reduction() -> None:
    gate = _gate(qty=[10.0, 0.0, 0.0])
    gate.blocked = True
    assert gate.check(0, -10.0, 0.0, 100_000.0, T, True) == Reason.RECONCILIATION_PENDING
    assert gate.check(1, 5.0, 0.0, 100_000.0, T, True) == Reason.RECONCILIATION_PENDING
    assert "not reconciled" in gate.message(Reason.RECONCILIATION_PENDING, 1, 5.0, 0.0, 100_000.0)
    gate.blocked = False
    assert gate.check(0, -10.0, 0.0, 100_000.0, T, True) == Reason.OK


# -- the live feed's hold on entries (ADR 0041) -------------------------------------------------
class _Held:
    """An EntryHold that holds the given symbol indexes."""

    def __init__(self, *held: int) -> None:
        self.held = set(held)
        self.asked: list[int] = []

    def holds(self, k: int) -> bool:
        self.asked.append(k)
        return k in self.held

    def why(self, k: int) -> str:
        return f"live feed 'alpaca' has had no {SYMBOLS[k]} bar for five intervals"


def test_a_gate_without_a_feed_hold_never_refuses_for_the_feed() -> None:
    gate = _gate()
    assert gate.hold is None
    assert _check(gate, 0, 10) == Reason.OK


def test_a_held_symbol_refuses_entries_growth_and_flips_with_the_feed_reason() -> None:
    gate = _gate(qty=(10.0, 0.0, 0.0), allow_short=True)
    gate.hold = _Held(0)
    assert _check(gate, 0, 5) == Reason.FEED_STALE  # grows
    assert _check(gate, 0, -30) == Reason.FEED_STALE  # flips
    assert _check(gate, 1, 5) == Reason.OK  # another symbol, not held
    assert gate.message(Reason.FEED_STALE, 0, 5, 0.0, EQUITY) == (
        "no new entry in AAPL: live feed 'alpaca' has had no AAPL bar for five intervals "
        "(buy 5 AAPL); exits and reductions still pass"
    )


def test_a_held_symbol_still_passes_reductions_and_exits_without_asking_the_hold() -> None:
    gate = _gate(qty=(10.0, 0.0, 0.0))
    hold = _Held(0)
    gate.hold = hold
    assert _check(gate, 0, -4) == Reason.OK
    assert _check(gate, 0, -10) == Reason.OK
    assert hold.asked == []  # a reduction never reaches the feed rule


def test_the_feed_hold_comes_after_the_kill_switch_and_market_hours() -> None:
    gate = _gate()
    gate.hold = _Held(0)
    gate.mode = KillSwitchMode.HALT_ENTRIES
    assert _check(gate, 0, 5) == Reason.HALT_ENTRIES
    gate.mode = KillSwitchMode.ACTIVE
    assert _check(gate, 0, 5, open=False) == Reason.MARKET_CLOSED
    gate.hold = None
    assert _check(gate, 0, 5) == Reason.OK
