"""The report's table of trades still open at the end: marked at the last close, not closed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal
from html import escape

from quant_domain import Trade

_HEADINGS = (
    "Symbol",
    "Side",
    "Quantity",
    "Entry",
    "Entry price",
    "Marked at",
    "Commission so far",
    "PnL",
)


def open_trades_section(trades: Iterable[Trade]) -> str:
    """A titled table of the trades still open at the end, or "" when every trade closed."""
    still_open = [t for t in trades if t.is_open]
    if not still_open:
        return ""
    head = "".join(f"<th>{label}</th>" for label in _HEADINGS)
    body = "".join(
        "<tr>"
        f"<td>{escape(t.symbol)}</td><td>{t.direction.value}, open</td>"
        f'<td class="num">{t.quantity:,}</td><td>{_moment(t.entry_time)}</td>'
        f'<td class="num">{_price(t.entry_price)}</td>'
        f'<td class="num">{"" if t.mark_price is None else _price(t.mark_price)}</td>'
        f'<td class="num">{t.commission:,.2f}</td>'
        f'<td class="num">{t.pnl:,.2f} (unrealised)</td>'
        "</tr>"
        for t in still_open
    )
    return (
        "<h2>Open trades at the end (marked at the last close, not closed)</h2>\n"
        f"<table><tr>{head}</tr>{body}</table>"
    )


def _moment(moment: datetime) -> str:
    """A date for midnight timestamps (daily bars), else date, hours and minutes."""
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.isoformat(sep=" ", timespec="minutes")[:16]


def _price(value: Decimal) -> str:
    """A price with at least 2 and at most 6 decimals (fills carry slippage's extra digits)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, min(6, -exponent)) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}"
