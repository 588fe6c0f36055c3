"""The HTML report: one self-contained page with formatted metrics, charts and escaped text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from quant_backtest.report_html import MAX_LINE_POINTS, thin_positions, write_html_report
from quant_backtest.result import BacktestResult, RunMetadata
from quant_domain import Fill, OrderSide, Trade, TradeDirection
from quant_engine.metrics import compute_metrics, monthly_returns

START_EQUITY = 100_000.0
N_BARS = 60


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 21, tzinfo=UTC)


def bars(index: pd.DatetimeIndex, base: float) -> pd.DataFrame:
    close = base + np.sin(np.arange(len(index)) / 5.0) * 3.0 + np.arange(len(index)) * 0.05
    return pd.DataFrame(
        {
            "open": close - 0.2,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
            "volume": np.full(len(index), 1_000.0),
        },
        index=index.rename("timestamp"),
    )


def fill(fill_id: str, symbol: str, side: OrderSide, price: str, when: datetime) -> Fill:
    return Fill(
        fill_id=fill_id,
        client_order_id=f"o-{fill_id}",
        symbol=symbol,
        side=side,
        quantity=Decimal(10),
        price=Decimal(price),
        commission=Decimal("1.00"),
        timestamp=when,
    )


def trade(trade_id: str, symbol: str, entry: Fill, exit_: Fill) -> Trade:
    return Trade(
        trade_id=trade_id,
        symbol=symbol,
        direction=TradeDirection.LONG,
        entry_time=entry.timestamp,
        quantity=entry.quantity,
        entry_price=entry.price,
        exit_time=exit_.timestamp,
        exit_price=exit_.price,
        gross_pnl=(exit_.price - entry.price) * entry.quantity,
        commission=entry.commission + exit_.commission,
        fill_ids=[entry.fill_id, exit_.fill_id],
    )


def make_result(
    strategy_id: str = "sma_cross", n_bars: int = N_BARS, start: str = "2024-01-02"
) -> BacktestResult:
    index = pd.bdate_range(start, periods=n_bars, tz="UTC") + pd.Timedelta(hours=21)
    steps = np.where(np.arange(n_bars) % 7 == 3, -0.012, 0.004)
    steps[0] = 0.0
    equity = START_EQUITY * np.cumprod(1.0 + steps)
    positions = np.where(np.arange(n_bars) % 10 < 5, equity * 0.5, 0.0)
    frame = pd.DataFrame(
        {
            "equity": equity,
            "cash": equity - positions,
            "positions_value": positions,
            "gross_exposure": positions / equity,
        },
        index=index,
    )
    fills = [
        fill("f1", "AAPL", OrderSide.BUY, "100.00", index[5].to_pydatetime()),
        fill("f2", "AAPL", OrderSide.SELL, "130.00", index[20].to_pydatetime()),
        fill("f3", "MSFT", OrderSide.BUY, "200.00", index[25].to_pydatetime()),
        fill("f4", "MSFT", OrderSide.SELL, "190.00", index[40].to_pydatetime()),
    ]
    trades = [trade("t1", "AAPL", fills[0], fills[1]), trade("t2", "MSFT", fills[2], fills[3])]
    metrics = compute_metrics(
        equity,
        periods_per_year=252.0,
        trades=trades,
        exposure=frame["gross_exposure"].to_numpy(),
        traded_notional=float(sum(f.notional for f in fills)),
        total_fees=float(sum(f.commission for f in fills)),
    )
    metadata = RunMetadata(
        code_version="git:abc1234",
        config_hash="cfg-9f8e7d",
        data_fingerprint="sha256:feedbeef",
        seed=42,
        created_at=utc(2024, 6, 1),
        python_version="3.11.7",
        platform="linux",
        data_source="sample & <csv>",
    )
    return BacktestResult(
        id="run-001",
        strategy_id=strategy_id,
        strategy_config={"fast": 10, "slow": 30},
        backtest_config={
            "fill_timing": "close",
            "slippage_bps": "10",
            "commission_per_trade": "1.00",
            "commission_bps": "0",
        },
        start=index[0].to_pydatetime(),
        end=index[-1].to_pydatetime(),
        equity=frame,
        benchmark=pd.Series(START_EQUITY * (1.0 + np.arange(n_bars) * 0.001), index=index),
        benchmark_symbol="SPY",
        trades=trades,
        fills=fills,
        orders=[],
        metrics=metrics,
        metadata=metadata,
        prices={"AAPL": bars(index, 110.0), "MSFT": bars(index, 195.0)},
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, Path, str]:
    result = make_result(strategy_id="<b>x</b>")
    target = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    written = write_html_report(result, target)
    return result, written, written.read_text(encoding="utf-8")


def test_write_html_report_writes_file_at_given_path(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, path, page = report

    assert path.name == "report.html"
    assert path.is_file()
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_write_html_report_is_self_contained_with_plotly_inlined_once(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, _, page = report
    library_head = plotly.offline.get_plotlyjs()[:300]

    assert '<script src="http' not in page
    assert "<script src=" not in page
    assert page.count(library_head) == 1
    assert page.count("Plotly.newPlot(") == 6  # equity, drawdown, monthly, 2 symbols, rolling


def test_write_html_report_shows_every_chart_title(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, _, page = report

    for title in (
        "<h2>Equity vs benchmark</h2>",
        "<h2>Drawdown (%)</h2>",
        "<h2>Monthly returns (%)</h2>",
        "<h2>Trades: AAPL</h2>",
        "<h2>Trades: MSFT</h2>",
        f"<h2>Rolling Sharpe ({N_BARS // 4} periods)</h2>",
        "<h2>Metrics</h2>",
        "<h2>Run metadata</h2>",
        "<h2>Backtest assumptions</h2>",
    ):
        assert title in page
    assert "Buy &amp; hold SPY" in page  # plotly decodes the entity when drawing the legend
    assert '"triangle-up"' in page
    assert '"triangle-down"' in page


def test_write_html_report_formats_metrics_as_money_percent_and_ratio(
    report: tuple[BacktestResult, Path, str],
) -> None:
    result, _, page = report
    m = result.metrics

    assert m.win_rate == 0.5  # one winner (AAPL +300 - 2 fees), one loser (MSFT -100 - 2)
    assert m.profit_factor == pytest.approx(298.0 / 102.0)
    expected_cells = [
        ("Start equity", "100,000.00"),
        ("Win rate", "50.00%"),
        ("Profit factor", "2.92"),
        ("Closed trades", "2"),
        ("Average win", "298.00"),
        ("Average loss", "-102.00"),
        ("Total fees", "4.00"),
        ("End equity", f"{m.end_equity:,.2f}"),
        ("Total return", f"{m.total_return * 100:.2f}%"),
        ("Max drawdown %", f"{m.max_drawdown_pct * 100:.2f}%"),
        ("Sharpe ratio", f"{m.sharpe:.2f}"),
        ("Periods per year", "252"),
    ]
    for label, text in expected_cells:
        assert f'<tr><th>{label}</th><td class="num">{text}</td></tr>' in page


def test_write_html_report_monthly_heatmap_shows_percent_text(
    report: tuple[BacktestResult, Path, str],
) -> None:
    result, _, page = report
    table = monthly_returns(result.equity["equity"])
    january = float(table.to_numpy()[0, 0])

    assert f'"{january * 100:.1f}%"' in page
    assert '"zmid":0.0' in page


def test_write_html_report_escapes_user_strings(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, _, page = report

    assert "<b>x</b>" not in page
    assert "<title>Backtest &lt;b&gt;x&lt;/b&gt; — run run-001</title>" in page
    assert "<h1>Backtest &lt;b&gt;x&lt;/b&gt; — run run-001</h1>" in page
    assert "<code>sample &amp; &lt;csv&gt;</code>" in page


def test_write_html_report_lists_metadata_and_assumptions(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, _, page = report

    for key, value in (
        ("Code version", "git:abc1234"),
        ("Config hash", "cfg-9f8e7d"),
        ("Data fingerprint", "sha256:feedbeef"),
        ("Seed", "42"),
        ("Created at", "2024-06-01T21:00:00+00:00"),
    ):
        assert f"<tr><th>{key}</th><td><code>{value}</code></td></tr>" in page
    assert "fill at the signal bar&#x27;s close × (1 ± slippage)" in page
    assert "buys pay 10 bps more, sells receive 10 bps less" in page
    assert "annualised with 252 periods per year" in page
    assert "Commission: 1.00 per trade plus 0 bps of traded notional." in page


def test_write_html_report_long_price_series_keeps_every_fill(tmp_path: Path) -> None:
    result = make_result(n_bars=MAX_LINE_POINTS + 1_000, start="1990-01-01")

    page = write_html_report(result, tmp_path / "long.html").read_text(encoding="utf-8")

    for f in result.fills:
        assert f"{f.side.value} {f.quantity} @ {f.price}" in page
    assert "<h2>Rolling Sharpe (126 periods)</h2>" in page
    # Six line traces of 21,000 points each would print 126,000 timestamps unthinned.
    assert page.count('T21:00:00+00:00"') <= 6 * MAX_LINE_POINTS


def test_thin_positions_short_series_is_untouched() -> None:
    np.testing.assert_array_equal(thin_positions(np.arange(10.0)), np.arange(10))


def test_thin_positions_long_series_keeps_extremes_and_ends_within_limit() -> None:
    values = np.sin(np.arange(100_000) / 50.0)
    values[12_345] = 9.0
    values[67_890] = -9.0
    values[500] = np.nan

    keep = thin_positions(values, limit=1_000)

    assert keep.size <= 1_000
    assert {0, 12_345, 67_890, 99_999} <= set(keep.tolist())
    assert 500 not in set(keep.tolist())
    assert np.all(np.diff(keep) > 0)


def test_write_html_report_lists_open_trades_apart_and_labels_them_open(tmp_path: Path) -> None:
    result = make_result()
    entry = fill("f-9", "AAPL", OrderSide.BUY, "100.00", result.equity.index[40].to_pydatetime())
    result.fills.append(entry)
    held = Trade(
        trade_id="t-9",
        symbol="AAPL",
        direction=TradeDirection.LONG,
        entry_time=entry.timestamp,
        quantity=entry.quantity,
        entry_price=entry.price,
        gross_pnl=Decimal("52.50"),
        commission=entry.commission,
        fill_ids=[entry.fill_id],
        bars_held=19,
        mark_price=Decimal("105.25"),
    )
    result.trades.append(held)
    page = write_html_report(result, tmp_path / "open.html").read_text(encoding="utf-8")

    assert "<h2>Open trades at the end (marked at the last close, not closed)</h2>" in page
    row = (
        '<tr><td>AAPL</td><td>long, open</td><td class="num">10</td>'
        f'<td>{entry.timestamp:%Y-%m-%d %H:%M}</td><td class="num">100.00</td>'
        '<td class="num">105.25</td><td class="num">1.00</td>'
        '<td class="num">51.50 (unrealised)</td></tr>'
    )
    assert row in page
    assert '"Open (marked)"' in page  # the mark on the price chart, apart from fills


def test_write_html_report_without_open_trades_has_no_open_trade_table(
    report: tuple[BacktestResult, Path, str],
) -> None:
    _, _, page = report
    assert "Open trades at the end (marked" not in page
