"""Performance metrics of an equity curve and its trades: returns, risk, drawdowns, trade stats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from quant_domain import Trade

FLAT_STD = 1e-12
"""Per-period return dispersion below this counts as none: ratios that divide by it are 0.0."""

_DAY = 86_400.0
_YEAR_DAYS = 365.25
_ROLLING_BLOCK = 4096
_MAX_EXP = 709.0


@dataclass(frozen=True, slots=True)
class Metrics:
    """Summary statistics of one run; every ratio is annualised with `periods_per_year`.

    Returns are simple per-period returns of the equity curve. max_drawdown is money below the
    running peak, max_drawdown_pct the same as a fraction of that peak (both positive), and
    max_drawdown_duration the periods from a peak to its recovery (or to the end). exposure is
    the fraction of periods with non-zero gross exposure; turnover is traded notional over mean
    equity per year; psr is the probability that the true per-period Sharpe exceeds 0.

    Conventions where a statistic is undefined (no division by zero, no warnings):

    - sharpe and psr are 0.0 with fewer than two returns or returns flatter than `FLAT_STD`;
      sortino is 0.0 with fewer than two returns or a zero downside deviation (no period below
      the risk-free rate), rather than NaN or infinity.
    - calmar is 0.0 when there was no drawdown.
    - annual_return is -1.0 once equity ends at or below zero, and `math.inf` when compounding
      a short, steep curve overflows a float.
    - The trade statistics (win_rate, profit_factor, avg_win, avg_loss, avg_trade_return,
      best_trade, worst_trade) describe closed trades only and are None without any: a "0 %
      win rate" would read as a fact. With closed trades, profit_factor is 0.0 without winners
      and `math.inf` with winners but no losers; avg_win / avg_loss are 0.0 without winners /
      losers. Trades with exactly zero net PnL count in num_trades but neither as winner nor
      loser. best_trade / worst_trade are net PnL in money, like avg_win / avg_loss.
    - open_trades counts the trades still open at the end and open_trade_pnl adds up their
      net PnL marked at the last close (unrealised, less the commissions they paid so far).
    - `as_dict()` turns None and every non-finite value into None (JSON null).
    """

    start_equity: float
    end_equity: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_duration: int
    calmar: float
    num_trades: int
    win_rate: float | None
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None
    avg_trade_return: float | None
    best_trade: float | None
    worst_trade: float | None
    exposure: float
    turnover: float
    total_fees: float
    psr: float
    periods_per_year: float
    open_trades: int = 0
    open_trade_pnl: float = 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        """Every field by name, JSON-safe: NaN and ±inf become None."""
        return {f.name: finite_or_none(getattr(self, f.name)) for f in fields(self)}


def compute_metrics(
    equity: np.ndarray,
    *,
    periods_per_year: float,
    trades: Sequence[Trade] = (),
    exposure: np.ndarray | None = None,
    traded_notional: float = 0.0,
    total_fees: float = 0.0,
    risk_free_rate: float = 0.0,
) -> Metrics:
    """Metrics of an equity curve (one account value per period, first = starting equity).

    Args:
        equity: account value per period; finite, at least one point, first point > 0.
        periods_per_year: bars per year used to annualise (see `periods_per_year()`).
        trades: the run's trades; open ones only count in open_trades and open_trade_pnl.
        exposure: per-period gross exposure; any non-zero value counts as exposed. None gives 0.
        traded_notional: sum of |quantity × price| over all fills, for turnover.
        total_fees: commissions paid over the run.
        risk_free_rate: annual rate, applied per period as (1 + rate) ** (1 / ppy) - 1.

    Raises:
        ValueError: empty or non-finite equity, non-positive starting equity or periods_per_year.
    """
    values = _validated_equity(equity)
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year}")
    ppy = float(periods_per_year)
    returns = simple_returns(values)
    n = returns.size
    years = n / ppy
    rf = (1.0 + risk_free_rate) ** (1.0 / ppy) - 1.0
    excess = returns - rf

    start, end = float(values[0]), float(values[-1])
    growth = end / start
    if n == 0:
        annual_return = 0.0
    elif growth <= 0:
        annual_return = -1.0
    else:
        # exp/log instead of pow: a short, steep curve must give inf, not an OverflowError.
        exponent = math.log(growth) / years
        annual_return = math.expm1(exponent) if exponent < _MAX_EXP else math.inf

    std = float(np.std(returns, ddof=1)) if n >= 2 else 0.0
    flat = n < 2 or std < FLAT_STD
    per_period_sharpe = sharpe_per_period(excess)
    mean_excess = float(np.mean(excess)) if n else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))) if n else 0.0
    sortino = 0.0 if n < 2 or downside < FLAT_STD else mean_excess / downside * math.sqrt(ppy)

    peaks = np.maximum.accumulate(values)
    # values[0] > 0, so every peak is > 0: the drawdown_series division without its guards.
    dd_pct = 1.0 - float(np.min(values / peaks))
    dd_money = float(np.max(peaks - values))

    mean_equity = float(np.mean(values))
    turnover = traded_notional / mean_equity / years if years > 0 and mean_equity > 0 else 0.0
    stats = _TradeStats.of(trades)
    exposed = 0.0
    if exposure is not None and exposure.size:
        exposed = float(np.count_nonzero(np.nan_to_num(exposure))) / exposure.size

    return Metrics(
        start_equity=start,
        end_equity=end,
        total_return=growth - 1.0,
        annual_return=annual_return,
        annual_volatility=std * math.sqrt(ppy),
        sharpe=per_period_sharpe * math.sqrt(ppy),
        sortino=sortino,
        max_drawdown=dd_money,
        max_drawdown_pct=dd_pct,
        max_drawdown_duration=_max_drawdown_duration(values, peaks),
        calmar=annual_return / dd_pct if dd_pct > 0 else 0.0,
        exposure=exposed,
        turnover=turnover,
        total_fees=float(total_fees),
        psr=0.0 if flat else probabilistic_sharpe_ratio(returns, per_period_sharpe),
        periods_per_year=ppy,
        num_trades=stats.num_trades,
        win_rate=stats.win_rate,
        profit_factor=stats.profit_factor,
        avg_win=stats.avg_win,
        avg_loss=stats.avg_loss,
        avg_trade_return=stats.avg_trade_return,
        best_trade=stats.best_trade,
        worst_trade=stats.worst_trade,
        open_trades=stats.open_trades,
        open_trade_pnl=stats.open_trade_pnl,
    )


def simple_returns(equity: np.ndarray) -> np.ndarray:
    """Per-period simple returns e[t] / e[t-1] - 1; 0.0 after the account reached <= 0."""
    values = np.asarray(equity, dtype=np.float64)
    prev, curr = values[:-1], values[1:]
    out = np.zeros_like(curr)
    np.divide(curr, prev, out=out, where=prev > 0)
    out -= 1.0
    out[prev <= 0] = 0.0
    return out


def finite_or_none(value: float | None) -> float | None:
    """`value` itself when it is a finite number; None (JSON null) for None, NaN and ±inf."""
    return value if value is not None and math.isfinite(value) else None


def sharpe_per_period(returns: np.ndarray) -> float:
    """mean / std (ddof=1) of per-period returns, not annualised.

    0.0 with fewer than two returns or returns flatter than `FLAT_STD`.
    """
    values = np.asarray(returns, dtype=np.float64)
    if values.size < 2:
        return 0.0
    std = float(np.std(values, ddof=1))
    return float(np.mean(values)) / std if std >= FLAT_STD else 0.0


def skew_and_kurtosis(returns: np.ndarray) -> tuple[float, float]:
    """Population (biased) skewness and non-excess kurtosis (3.0 for a normal distribution).

    Both are NaN, being undefined, with fewer than two returns or returns that do not vary
    (a zero second moment).
    """
    values = np.asarray(returns)
    if values.size < 2:
        return math.nan, math.nan
    centred = values - np.mean(values)
    # Plain products: `**3` / `**4` go through np.power, about 10x slower.
    squared = centred * centred
    m2 = float(np.mean(squared))
    if m2 <= 0:
        return math.nan, math.nan
    return float(np.mean(squared * centred)) / m2**1.5, float(np.mean(squared * squared)) / m2**2


def probabilistic_sharpe_ratio(
    returns: np.ndarray, sharpe: float, benchmark_sharpe: float = 0.0
) -> float:
    """P(true per-period Sharpe > benchmark) given skew and kurtosis (Bailey & López de Prado).

    `psr_from_moments` with the population (biased) skewness and non-excess kurtosis of
    `returns`; `sharpe` is per period, not annual. 0.0 with fewer than two returns or returns
    that do not vary.
    """
    skew, kurtosis = skew_and_kurtosis(returns)
    if math.isnan(skew):
        return 0.0
    return psr_from_moments(returns.size, skew, kurtosis, sharpe, benchmark_sharpe)


def psr_from_moments(
    n_obs: int, skew: float, kurtosis: float, sharpe: float, benchmark_sharpe: float = 0.0
) -> float:
    """The probabilistic Sharpe ratio from moments already known (see `skew_and_kurtosis`).

    Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2)), kurtosis non-excess;
    1.0 above the benchmark (0.0 otherwise) when a large Sharpe makes the variance term <= 0.
    """
    variance = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    diff = sharpe - benchmark_sharpe
    if variance <= 0:
        return 1.0 if diff > 0 else 0.0
    z = diff * math.sqrt(n_obs - 1) / math.sqrt(variance)
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def drawdown_series(equity: np.ndarray) -> np.ndarray:
    """Fraction below the running peak per period (<= 0); 0.0 wherever the peak is <= 0."""
    values = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(values) if values.size else values
    out = np.zeros_like(values)
    np.divide(values, peaks, out=out, where=peaks > 0)
    out -= 1.0
    out[peaks <= 0] = 0.0
    return np.minimum(out, 0.0)


def rolling_sharpe(equity: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    """Annualised Sharpe of each trailing `window` returns; one value per return (len - 1).

    The result lines up with the equity index from its second point; the first window - 1
    values are NaN, and windows flatter than `FLAT_STD` give 0.0.
    """
    if window < 2:
        raise ValueError(f"rolling window must be >= 2 returns, got {window}")
    returns = simple_returns(equity)
    out = np.full(returns.size, np.nan)
    if returns.size < window:
        return out
    scale = math.sqrt(periods_per_year)
    views = np.lib.stride_tricks.sliding_window_view(returns, window)
    # Exact two-pass statistics per window, in blocks so memory stays bounded on long curves.
    for lo in range(0, views.shape[0], _ROLLING_BLOCK):
        block = views[lo : lo + _ROLLING_BLOCK]
        std = np.std(block, axis=1, ddof=1)
        mean = np.mean(block, axis=1)
        ratio = np.zeros_like(mean)
        np.divide(mean, std, out=ratio, where=std >= FLAT_STD)
        out[window - 1 + lo : window - 1 + lo + block.shape[0]] = ratio * scale
    return out


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Compounded return per calendar month: rows are years, columns months 1..12, NaN if no data.

    Each month runs from the last value of the previous month with data (the first value of the
    curve for the first month) to the month's last value.
    """
    if not isinstance(equity.index, pd.DatetimeIndex):
        raise TypeError("monthly_returns needs an equity Series indexed by a DatetimeIndex")
    columns = pd.Index(range(1, 13), name="month")
    clean = equity.dropna().astype("float64").sort_index()
    if clean.empty:
        return pd.DataFrame(index=pd.Index([], name="year", dtype="int64"), columns=columns)
    month_end = clean.resample("ME").last()
    base = month_end.ffill().shift(1)
    base.iloc[0] = clean.iloc[0]
    ratio = month_end / base.where(base > 0)
    stamps = pd.DatetimeIndex(month_end.index)
    table = pd.DataFrame({"year": stamps.year, "month": stamps.month, "ret": ratio.to_numpy() - 1})
    pivot = table.pivot(index="year", columns="month", values="ret")
    return pivot.reindex(columns=columns).rename_axis(index="year", columns="month")


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Bars per year implied by a timestamp index.

    Rules, on the median spacing of the sorted unique timestamps:

    - fewer than two timestamps: 252.0 (the daily default);
    - 20 h to 4 days: 252 trading days, or 365 when over 10 % of bars fall on weekends (crypto);
    - 4 to 20 days: 52; 20 to 60 days: 12; 60 to 200 days: 4; longer: 1;
    - intraday (< 20 h): bars counted over elapsed calendar years when the index spans at least
      30 days; on shorter spans, bars per calendar day seen × 252 trading days (× 365 when
      weekend bars appear), which fits both 24-hour markets and exchange sessions.
    """
    stamps = pd.DatetimeIndex(index).unique().sort_values()
    if len(stamps) < 2:
        return 252.0
    # integer seconds: to_numpy() on a tz-aware index would build one Timestamp object per bar
    gaps = np.diff(stamps.as_unit("s").asi8).astype(np.float64)
    median_days = float(np.median(gaps)) / _DAY
    weekend_share = float(np.mean(stamps.day_of_week >= 5))
    days_per_year = 365.0 if weekend_share > 0.1 else 252.0
    if median_days >= 200:
        return 1.0
    if median_days >= 60:
        return 4.0
    if median_days >= 20:
        return 12.0
    if median_days >= 4:
        return 52.0
    if median_days >= 20 / 24:
        return days_per_year
    span_days = (stamps[-1] - stamps[0]).total_seconds() / _DAY
    if span_days >= 30:
        return (len(stamps) - 1) / (span_days / _YEAR_DAYS)
    days_seen = len(stamps.normalize().unique())
    return len(stamps) / days_seen * days_per_year


def _validated_equity(equity: np.ndarray) -> np.ndarray:
    values = np.asarray(equity, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("equity must be a non-empty 1-D array of account values")
    if not np.all(np.isfinite(values)):
        raise ValueError("equity contains NaN or infinite values; clean the curve first")
    if values[0] <= 0:
        raise ValueError(f"starting equity must be > 0, got {values[0]}")
    return values


def _max_drawdown_duration(values: np.ndarray, peaks: np.ndarray) -> int:
    """Longest spell from a peak to its recovery (or to the end when never recovered)."""
    under = values < peaks
    if not under.any():
        return 0
    positions = np.arange(values.size)
    last_peak = np.maximum.accumulate(np.where(under, 0, positions))
    longest = int(np.max(positions[under] - last_peak[under]))
    recovered = np.flatnonzero(~under[1:] & under[:-1]) + 1
    if recovered.size:
        longest = max(longest, int(np.max(recovered - last_peak[recovered - 1])))
    return longest


def profit_factor(pnls: np.ndarray) -> float:
    """Gross winning PnL over gross losing PnL; inf with winners and no losers, 0.0 with no winners."""
    gross_win = float(pnls[pnls > 0].sum())
    gross_loss = float(-pnls[pnls < 0].sum())
    if gross_loss > 0:
        return gross_win / gross_loss
    return math.inf if gross_win > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _TradeStats:
    num_trades: int = 0
    win_rate: float | None = None
    profit_factor: float | None = None
    avg_win: float | None = None
    avg_loss: float | None = None
    avg_trade_return: float | None = None
    best_trade: float | None = None
    worst_trade: float | None = None
    open_trades: int = 0
    open_trade_pnl: float = 0.0

    @classmethod
    def of(cls, trades: Sequence[Trade]) -> _TradeStats:
        closed = [t for t in trades if not t.is_open]
        still_open = [float(t.pnl) for t in trades if t.is_open]
        open_trades, open_pnl = len(still_open), math.fsum(still_open)
        if not closed:
            return cls(open_trades=open_trades, open_trade_pnl=open_pnl)
        pnls = np.array([float(t.pnl) for t in closed], dtype=np.float64)
        wins, losses = pnls[pnls > 0], pnls[pnls < 0]
        return cls(
            num_trades=len(closed),
            win_rate=wins.size / len(closed),
            profit_factor=profit_factor(pnls),
            avg_win=float(wins.mean()) if wins.size else 0.0,
            avg_loss=float(losses.mean()) if losses.size else 0.0,
            avg_trade_return=float(np.mean([t.return_pct for t in closed])),
            best_trade=float(pnls.max()),
            worst_trade=float(pnls.min()),
            open_trades=open_trades,
            open_trade_pnl=open_pnl,
        )
