"""MFE and MAE of trades: the golden cases and the written rule for which bars count."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from quant_domain import Fill, OrderSide, Trade, TradeDirection
from quant_engine.config import FillTiming
from quant_engine.excursions import with_excursions

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def bars(*rows: tuple[float, float, float, float]) -> dict[str, pd.DataFrame]:
    index = pd.DatetimeIndex([T0 + timedelta(days=i) for i in range(len(rows))])
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 1_000.0
    return {"X": frame}


def fill(fill_id: str, side: OrderSide, price: str, day: int, slippage: str = "0") -> Fill:
    return Fill(
        fill_id=fill_id,
        client_order_id=f"c-{fill_id}",
        symbol="X",
        side=side,
        quantity=Decimal(10),
        price=Decimal(price),
        commission=Decimal(0),
        timestamp=T0 + timedelta(days=day),
        slippage=Decimal(slippage),
    )


def trade(
    direction: TradeDirection, entry: Fill, exit_: Fill | None, mark: str | None = None
) -> Trade:
    return Trade(
        trade_id="t-1",
        symbol="X",
        direction=direction,
        entry_time=entry.timestamp,
        quantity=Decimal(10),
        entry_price=entry.price,
        exit_time=None if exit_ is None else exit_.timestamp,
        exit_price=None if exit_ is None else exit_.price,
        fill_ids=[entry.fill_id] + ([] if exit_ is None else [exit_.fill_id]),
        mark_price=None if mark is None else Decimal(mark),
    )


def measure(
    t: Trade, fills: list[Fill], frames: dict[str, pd.DataFrame], timing: FillTiming
) -> Trade:
    (measured,) = with_excursions([t], fills, frames, timing)
    return measured


def test_golden_long_at_100_high_105_low_97_exit_102_is_mfe_5_mae_minus_3_given_back_minus_3() -> (
    None
):
    frames = bars((99, 100, 98, 100), (100, 105, 97, 102))
    entry, exit_ = fill("f-1", OrderSide.BUY, "100", 0), fill("f-2", OrderSide.SELL, "102", 1)
    t = measure(trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert (t.mfe, t.mae, t.given_back) == (Decimal(5), Decimal(-3), Decimal(-3))
    values = t.excursions()
    assert values["mfe_value"] == Decimal(50)
    assert values["mae_value"] == Decimal(-30)
    assert values["given_back_value"] == Decimal(-30)
    assert values["mfe_pct"] == pytest.approx(0.05)
    assert values["mae_pct"] == pytest.approx(-0.03)


def test_golden_short_mirrors_it_short_at_100_low_95_high_103_exit_98() -> None:
    frames = bars((101, 102, 99, 100), (100, 103, 95, 98))
    entry, exit_ = fill("f-1", OrderSide.SELL, "100", 0), fill("f-2", OrderSide.BUY, "98", 1)
    t = measure(trade(TradeDirection.SHORT, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert (t.mfe, t.mae, t.given_back) == (Decimal(5), Decimal(-3), Decimal(-3))


def test_an_entry_at_the_close_does_not_count_its_own_bars_range() -> None:
    # the entry bar spiked to 130 and fell to 70 before the close fill at 100: not the trade's
    frames = bars((100, 130, 70, 100), (100, 101, 99, 100))
    entry, exit_ = fill("f-1", OrderSide.BUY, "100", 0), fill("f-2", OrderSide.SELL, "100", 1)
    t = measure(trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert (t.mfe, t.mae) == (Decimal(1), Decimal(-1))


def test_an_entry_at_the_open_counts_its_bar_and_an_exit_at_the_open_does_not() -> None:
    # next-open timing: in at day 1's open (100), out at day 2's open (104); day 2 then ran to 150
    frames = bars((90, 91, 89, 90), (100, 108, 96, 103), (104, 150, 60, 140))
    entry, exit_ = fill("f-1", OrderSide.BUY, "100", 1), fill("f-2", OrderSide.SELL, "104", 2)
    t = measure(
        trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.NEXT_OPEN
    )
    assert (t.mfe, t.mae, t.given_back) == (Decimal(8), Decimal(-4), Decimal(-4))


def test_a_fill_inside_a_bar_counts_the_whole_bar() -> None:
    # a stop bought at 102 inside day 0 (open 100, close 104): day 0's 106 and 99 count
    frames = bars((100, 106, 99, 104), (104, 105, 103, 104))
    entry, exit_ = fill("f-1", OrderSide.BUY, "102", 0), fill("f-2", OrderSide.SELL, "104", 1)
    t = measure(trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert (t.mfe, t.mae) == (Decimal(4), Decimal(-3))


def test_the_reference_price_is_read_back_through_slippage() -> None:
    # bought at 100.1 = close 100 plus 0.1 slippage per unit: still a close fill
    frames = bars((100, 130, 70, 100), (100, 101, 99, 100))
    entry = fill("f-1", OrderSide.BUY, "100.1", 0, slippage="1.0")
    exit_ = fill("f-2", OrderSide.SELL, "99.9", 1, slippage="1.0")
    t = measure(trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert (t.mfe, t.mae) == (Decimal("0.9"), Decimal("-1.1"))


def test_an_open_trade_counts_every_bar_to_the_end_and_its_mark() -> None:
    frames = bars((100, 100, 100, 100), (100, 112, 95, 110), (110, 111, 108, 109))
    entry = fill("f-1", OrderSide.BUY, "100", 0)
    t = measure(
        trade(TradeDirection.LONG, entry, None, mark="109"), [entry], frames, FillTiming.CLOSE
    )
    assert (t.mfe, t.mae, t.given_back) == (Decimal(12), Decimal(-5), Decimal(-3))


def test_excursions_bound_the_move_the_trade_kept() -> None:
    # an exit outside the bars' range (slippage, a gap) still lies between MAE and MFE
    frames = bars((100, 100, 100, 100), (100, 101, 99, 100))
    entry, exit_ = fill("f-1", OrderSide.BUY, "100", 0), fill("f-2", OrderSide.SELL, "97", 1, "0")
    t = measure(trade(TradeDirection.LONG, entry, exit_), [entry, exit_], frames, FillTiming.CLOSE)
    assert t.mae is not None
    assert t.mfe is not None
    assert t.mae <= t.price_move <= t.mfe


def test_a_trade_without_bars_is_left_unmeasured() -> None:
    entry = fill("f-1", OrderSide.BUY, "100", 0)
    (t,) = with_excursions([trade(TradeDirection.LONG, entry, None)], [entry], {}, FillTiming.CLOSE)
    assert t.mfe is None
    assert t.excursions()["given_back_pct"] is None


def test_the_regime_at_entry_is_read_at_the_last_bar_known_when_the_trade_entered() -> None:
    # 300 rising bars then a fall: a close fill on bar 299 reads bar 299, an open fill on bar
    # 300 reads bar 299 too (bar 300's close was not known at its open)
    rows = [(100 + i, 101 + i, 99 + i, 100 + i) for i in range(300)] + [(399, 400, 300, 300)]
    frames = bars(*rows)
    at_close = fill("f-1", OrderSide.BUY, "399", 299)
    at_open = fill("f-2", OrderSide.BUY, "399", 300)
    (by_close,) = with_excursions(
        [trade(TradeDirection.LONG, at_close, None, mark="300")],
        [at_close],
        frames,
        FillTiming.CLOSE,
    )
    (by_open,) = with_excursions(
        [trade(TradeDirection.LONG, at_open, None, mark="300")],
        [at_open],
        frames,
        FillTiming.NEXT_OPEN,
    )
    assert by_close.regime == by_open.regime == "bull"
    early = fill("f-3", OrderSide.BUY, "150", 50)
    (warming,) = with_excursions(
        [trade(TradeDirection.LONG, early, None, mark="300")], [early], frames, FillTiming.CLOSE
    )
    assert warming.regime is None


def test_bars_past_the_year_2262_are_measured_too() -> None:
    # nanosecond timestamps end in 2262; a long synthetic daily history runs past it
    index = pd.DatetimeIndex(
        [datetime(2300, 1, 2, tzinfo=UTC), datetime(2300, 1, 3, tzinfo=UTC)]
    ).as_unit("us")
    frame = pd.DataFrame(
        [(99, 100, 98, 100), (100, 105, 97, 102)],
        columns=["open", "high", "low", "close"],
        index=index,
    )
    entry = dataclasses.replace(fill("f-1", OrderSide.BUY, "100", 0), timestamp=index[0])
    exit_ = dataclasses.replace(fill("f-2", OrderSide.SELL, "102", 0), timestamp=index[1])
    t = measure(
        trade(TradeDirection.LONG, entry, exit_), [entry, exit_], {"X": frame}, FillTiming.CLOSE
    )
    assert (t.mfe, t.mae) == (Decimal(5), Decimal(-3))
