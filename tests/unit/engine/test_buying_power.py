"""Without margin a buy never spends cash the account lacks; covering a short is always allowed."""

from __future__ import annotations

from decimal import Decimal

from quant_domain import OrderStatus, PositionSizing, SizingMode
from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config


def _run(script: dict[int, dict[str, str]], quantity: int, capital: int, margin: bool = False):  # type: ignore[no-untyped-def]
    config = strategy_config(
        universe=["AAA", "BBB"],
        params={"symbol_script": script},
        risk={"allow_short": True, "max_position_pct": 10.0, "max_gross_exposure": 10.0},
    )
    bt = BacktestConfig(
        initial_capital=Decimal(capital),
        commission_per_trade=Decimal(1),
        slippage_bps=Decimal(0),
        sizing=PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(quantity)),
        allow_margin=margin,
    )
    frames = {"AAA": frame([50.0, 50.0, 50.0]), "BBB": frame([50.0, 50.0, 50.0])}
    return BacktestEngine(bt).run(build_strategy(config), build_timeline(frames))


def test_buy_larger_than_cash_is_resized_to_fit_and_says_so() -> None:
    run = _run({0: {"AAA": "long"}}, quantity=30, capital=1_000)
    # (1000 - 1 fee) / 50 = 19.98 -> 19 whole units
    assert run.fills[0].quantity == Decimal(19)
    assert run.final_cash == Decimal(1000 - 19 * 50 - 1)
    assert "resized from 30" in run.orders[0].reason


def test_buy_with_no_cash_left_is_rejected() -> None:
    run = _run({0: {"AAA": "long"}, 1: {"BBB": "long"}}, quantity=19, capital=1_000)
    assert run.orders[1].status is OrderStatus.REJECTED
    assert run.orders[1].reason == "insufficient cash"
    assert run.final_cash >= 0


def test_covering_a_short_is_allowed_even_past_zero_cash() -> None:
    # short BBB funds a long AAA; covering BBB later costs more cash than is left, and must happen
    run = _run({0: {"BBB": "short", "AAA": "long"}, 1: {"BBB": "flat"}}, quantity=20, capital=1_000)
    assert run.final_positions == {"AAA": Decimal(20)}
    assert run.final_cash == Decimal(1000 + 20 * 50 - 1 - 20 * 50 - 1 - 20 * 50 - 1)


def test_margin_allows_buys_beyond_cash() -> None:
    run = _run({0: {"AAA": "long"}}, quantity=30, capital=1_000, margin=True)
    assert run.fills[0].quantity == Decimal(30)
    assert run.final_cash == Decimal(1000 - 30 * 50 - 1)
