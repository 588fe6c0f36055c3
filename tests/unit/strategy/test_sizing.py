"""The default risk_check sizes signals into orders within the risk caps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from quant_domain import CostModel, OrderSide, PositionSizing, Signal, SignalDirection, SizingMode
from quant_engine import Ledger, PortfolioReader
from quant_strategy import RiskCaps, SignalThresholds, signals_to_orders

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _ledger(
    cash: int = 10_000,
    sizing: PositionSizing | None = None,
    costs: CostModel | None = None,
    held_a: float = 0.0,
) -> PortfolioReader:
    """A strategy's read-only view of an account holding `held_a` of A; prices A 100, B 50, C 20."""
    ledger = Ledger(["A", "B", "C"], Decimal(cash))
    ledger.last[:] = [100.0, 50.0, 20.0]
    if held_a:
        ledger.qty[0] = held_a
        ledger.held.append(0)
    sizing = (sizing or PositionSizing()).model_copy(
        update={"expected_costs": costs or CostModel()}
    )
    return PortfolioReader(ledger, sizing)


def _orders(signals: list[Signal], ledger: Ledger, **risk: object):  # type: ignore[no-untyped-def]
    return signals_to_orders(
        signals,
        ledger,
        risk=RiskCaps.model_validate(risk),
        thresholds=SignalThresholds(),
        strategy_id="s",
    )


def test_fraction_sizing_reserves_costs_and_rounds_down_to_whole_units() -> None:
    # budget 10000 - 1 fee, per unit 100 * 1.001 -> 99.89 -> 99 whole units
    orders = _orders([Signal("A", SignalDirection.LONG, NOW)], _ledger())
    assert [(o.side, o.quantity) for o in orders] == [(OrderSide.BUY, Decimal(99))]


def test_fractional_sizing_keeps_six_decimals() -> None:
    ledger = _ledger(
        sizing=PositionSizing(fractional=True),
        costs=CostModel(slippage_bps=Decimal(0), commission_per_trade=Decimal(0)),
    )
    orders = _orders([Signal("A", SignalDirection.LONG, NOW, strength=0.333)], ledger)
    assert orders[0].quantity == Decimal("33.3")


def test_fixed_sizing_uses_quantity_capped_by_position_limit() -> None:
    ledger = _ledger(sizing=PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(500)))
    orders = _orders([Signal("A", SignalDirection.LONG, NOW)], ledger, max_position_pct=0.5)
    assert orders[0].quantity == Decimal(50)


def test_short_becomes_flat_when_shorting_not_allowed() -> None:
    assert _orders([Signal("A", SignalDirection.SHORT, NOW)], _ledger()) == []


def test_gross_exposure_cap_scales_targets_together() -> None:
    signals = [Signal("A", SignalDirection.LONG, NOW), Signal("B", SignalDirection.LONG, NOW)]
    orders = _orders(
        signals,
        _ledger(costs=CostModel(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))),
        max_position_pct=1.0,
        max_gross_exposure=1.0,
    )
    values = {o.symbol: float(o.quantity) * (100.0 if o.symbol == "A" else 50.0) for o in orders}
    assert sum(values.values()) <= 10_000
    assert values == {"A": 5_000.0, "B": 5_000.0}


def test_max_positions_keeps_strongest_new_entries() -> None:
    signals = [
        Signal("A", SignalDirection.LONG, NOW, strength=0.2),
        Signal("B", SignalDirection.LONG, NOW, strength=0.3),
        Signal("C", SignalDirection.LONG, NOW, strength=0.25),
    ]
    orders = _orders(signals, _ledger(), max_positions=2)
    assert sorted(o.symbol for o in orders) == ["B", "C"]


def test_sells_come_before_buys_and_flat_closes_exactly() -> None:
    ledger = _ledger(held_a=12.5)
    orders = _orders(
        [
            Signal("B", SignalDirection.LONG, NOW, strength=0.5),
            Signal("A", SignalDirection.FLAT, NOW),
        ],
        ledger,
    )
    assert [(o.symbol, o.side) for o in orders] == [("A", OrderSide.SELL), ("B", OrderSide.BUY)]
    assert orders[0].quantity == Decimal("12.5")


def test_no_orders_when_equity_is_gone() -> None:
    assert _orders([Signal("A", SignalDirection.LONG, NOW)], _ledger(cash=0)) == []


def test_min_trade_pct_skips_small_rebalances() -> None:
    # equity 200 + 98 x 100 = 10,000; target 99 units, a 100 change
    ledger = _ledger(cash=200, held_a=98.0)
    assert [o.quantity for o in _orders([Signal("A", SignalDirection.LONG, NOW)], ledger)] == [
        Decimal(1)
    ]
    assert _orders([Signal("A", SignalDirection.LONG, NOW)], ledger, min_trade_pct=0.02) == []
