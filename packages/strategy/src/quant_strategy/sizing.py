"""The default risk_check: signals become target positions within caps, then orders for the change."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

from quant_domain import (
    CostModel,
    Order,
    OrderSide,
    PortfolioView,
    Signal,
    SignalDirection,
    SizingMode,
    to_decimal,
)
from quant_domain.sizing import FRACTION_STEP
from quant_strategy.config import RiskCaps, SignalThresholds

NO_COSTS = CostModel(commission_per_trade=Decimal(0), slippage_bps=Decimal(0))
"""What the sizer reserves for when its configuration names no expected costs."""


def _target_quantities(
    wanted: dict[str, Signal],
    portfolio: PortfolioView,
    risk: RiskCaps,
    equity: float,
    deployable: float,
) -> dict[str, float]:
    sizing = portfolio.sizing
    # reserve slippage and commission so a full-size buy fits in the cash the account has
    cost_rate, fee = _reserve(sizing.expected_costs or NO_COSTS)
    targets: dict[str, float] = {}
    for symbol, signal in wanted.items():
        sign = signal.direction.sign
        if sign < 0 and not risk.allow_short:
            sign = 0
        price = portfolio.price(symbol)
        if sign == 0 or price <= 0.0:
            targets[symbol] = 0.0
            continue
        cap_qty = risk.max_position_pct * equity / price
        if sizing.mode is SizingMode.FRACTION:
            fraction = min(sizing.fraction * signal.strength, risk.max_position_pct)
            amount = max(fraction * deployable - fee, 0.0)
            qty = amount / (price * (1.0 + cost_rate))
        else:
            qty = min(float(sizing.quantity), cap_qty)
        targets[symbol] = sign * qty
    return targets


_RESERVES: dict[int, tuple[CostModel, float, float]] = {}


def _reserve(costs: CostModel) -> tuple[float, float]:
    """(cost rate, fee per trade) the sizer reserves under `costs`, as floats.

    Worked out once per CostModel (frozen) rather than once per sizing: the sizer runs on every
    bar that signals. The entry keeps its model alive, so its id cannot be reused meanwhile.
    """
    entry = _RESERVES.get(id(costs))
    if entry is None:
        if len(_RESERVES) >= 256:
            _RESERVES.clear()
        rate = float(costs.slippage_bps + costs.commission_bps) / 10_000.0
        entry = (costs, rate, float(costs.commission_per_trade))
        _RESERVES[id(costs)] = entry
    return entry[1], entry[2]


def _apply_position_limit(
    targets: dict[str, float],
    wanted: dict[str, Signal],
    portfolio: PortfolioView,
    limit: int | None,
) -> None:
    if limit is None:
        return
    held = {
        s
        for s in portfolio_symbols(portfolio, targets)
        if targets.get(s, portfolio.position(s)) != 0.0
    }
    if len(held) <= limit:
        return
    # keep what is already held, then the strongest new entries
    new = [s for s in held if portfolio.position(s) == 0.0]
    new.sort(key=lambda s: wanted[s].strength, reverse=True)
    for symbol in new[max(limit - (len(held) - len(new)), 0) :]:
        targets[symbol] = 0.0


def portfolio_symbols(portfolio: PortfolioView, targets: dict[str, float]) -> set[str]:
    return set(targets).union(portfolio.held_symbols())


def _apply_gross_cap(targets: dict[str, float], portfolio: PortfolioView, cap: float) -> None:
    """Scale the targets down together so the gross exposure stays within `cap` (money)."""
    others: float = 0  # what is held outside the targets (nothing, when every holding is a target)
    if not all(s in targets for s in portfolio.held_symbols()):
        others = sum(
            abs(portfolio.position(s)) * portfolio.price(s)
            for s in portfolio_symbols(portfolio, targets)
            if s not in targets
        )
    targeted = sum(abs(q) * portfolio.price(s) for s, q in targets.items())
    room = cap - others
    if targeted > room and targeted > 0:
        scale = max(room, 0.0) / targeted
        for symbol in targets:
            targets[symbol] *= scale


def _to_quantity(delta: float, fractional: bool) -> Decimal:
    if fractional:
        return to_decimal(abs(delta)).quantize(FRACTION_STEP, rounding=ROUND_DOWN)
    return Decimal(math.floor(abs(delta) + 1e-9))


def signals_to_orders(
    signals: list[Signal],
    portfolio: PortfolioView,
    *,
    risk: RiskCaps,
    thresholds: SignalThresholds,
    strategy_id: str,
    budget: Decimal | None = None,
) -> list[Order]:
    """Market orders moving each signalled symbol to its target; sells come before buys.

    Sizing: a FRACTION account targets strength x fraction of equity per symbol (capped by
    max_position_pct), less a reserve for commission and slippage; a FIXED account targets the
    fixed quantity. Shorts become flat unless allow_short. max_positions keeps existing holdings
    first; max_gross_exposure scales the signalled targets down together.

    With a `budget` (the strategy's capital budget, ADR 0030) a fraction is of the equity or the
    budget, whichever is smaller, and the gross exposure stays within the budget too: the gate
    refuses what would grow past it, so the sizer does not ask for it.
    """
    equity = portfolio.equity
    if not signals or equity <= 0.0:
        return []
    deployable = equity
    gross_cap = risk.max_gross_exposure * equity
    if budget is not None:
        deployable = min(equity, float(budget))
        gross_cap = min(gross_cap, float(budget))
    wanted: dict[str, Signal] = {}
    for signal in signals:
        if (
            signal.direction is not SignalDirection.FLAT
            and signal.strength < thresholds.min_strength
        ):
            continue
        wanted[signal.symbol] = signal
    targets = _target_quantities(wanted, portfolio, risk, equity, deployable)
    _apply_position_limit(targets, wanted, portfolio, risk.max_positions)
    _apply_gross_cap(targets, portfolio, gross_cap)

    fractional = portfolio.sizing.fractional
    orders: list[Order] = []
    for symbol, wanted_qty in targets.items():
        current = portfolio.position(symbol)
        target = wanted_qty if fractional else float(math.trunc(wanted_qty))
        delta = target - current
        if target == 0.0 and current != 0.0:
            quantity = to_decimal(abs(current))  # close exactly what is held
        else:
            if abs(delta) * portfolio.price(symbol) < risk.min_trade_pct * equity:
                continue
            quantity = _to_quantity(delta, fractional)
        if quantity <= 0:
            continue
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        orders.append(
            Order(
                symbol=symbol,
                side=side,
                quantity=quantity,
                strategy_id=strategy_id,
                created_at=wanted[symbol].timestamp,
                reason=wanted[symbol].reason,
            )
        )
    orders.sort(key=lambda o: o.side is OrderSide.BUY)
    return orders
