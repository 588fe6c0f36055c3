"""Results too good to be true: the figures the look-ahead check flags when it sees no bias.

Perturbing the bars the engine hands a strategy cannot reach data the strategy loads by itself
(a file, a download, a global), so a clean check proves nothing about that data. A result no
real strategy reaches on these bars is the other clue, and the check reports it with its figure.

The limits, per bar frequency (from the run's periods per year):

- daily or slower bars (at most 400 periods a year): an annualised Sharpe above 4. Daily-bar
  strategies above 2 are rare; above 4 a backtest almost always has a bug (look-ahead, a
  survivor-only universe, bad prices).
- hourly bars (at most 9,000 periods a year, bars of an hour or more): above 6.
- shorter intraday bars: above 8. Annualised Sharpe grows with the number of independent bets,
  so faster strategies may legitimately show more, but not this much with per-trade costs.
- any frequency: a win rate above 90 % over at least 50 closed trades.

A Sharpe ratio is only judged when the run has enough returns for its standard error, about
sqrt(periods per year / returns) annualised, to be at most half the frequency's limit: 63
returns on daily bars (252 a year).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quant_domain import Trade
from quant_engine.metrics import compute_metrics

SHARPE_LIMIT_DAILY = 4.0
SHARPE_LIMIT_HOURLY = 6.0
SHARPE_LIMIT_INTRADAY = 8.0
_FREQUENCIES = (
    (400.0, "daily", SHARPE_LIMIT_DAILY),
    (9_000.0, "hourly", SHARPE_LIMIT_HOURLY),
    (math.inf, "intraday", SHARPE_LIMIT_INTRADAY),
)
WIN_RATE_LIMIT = 0.9
WIN_RATE_MIN_TRADES = 50


@dataclass(frozen=True, slots=True)
class ResultCheck:
    """The reference run's figures and why they look too good (`reasons`, empty when they don't).

    `bars` names the frequency the limits were chosen for ("daily", "hourly", "intraday");
    `note` says why the Sharpe ratio was not judged, when it was not.
    """

    sharpe: float
    periods_per_year: float
    bars: str
    sharpe_limit: float
    returns: int
    win_rate: float | None
    closed_trades: int
    reasons: tuple[str, ...] = ()
    note: str = ""

    @property
    def suspicious(self) -> bool:
        return bool(self.reasons)


def frequency_limit(periods_per_year: float) -> tuple[str, float]:
    """(bar frequency name, Sharpe limit) for bars at `periods_per_year`."""
    for most, name, limit in _FREQUENCIES:
        if periods_per_year <= most:
            return name, limit
    return _FREQUENCIES[-1][1], _FREQUENCIES[-1][2]


def judge_result(
    equity: np.ndarray,
    periods_per_year: float,
    trades: Sequence[Trade],
    *,
    sharpe_limit: float | None = None,
) -> ResultCheck:
    """Check a run's equity (starting capital first) and trades against the limits above.

    `sharpe_limit` replaces the frequency's Sharpe limit (for a strategy known to earn more).
    """
    bars, default_limit = frequency_limit(periods_per_year)
    limit = default_limit if sharpe_limit is None else sharpe_limit
    metrics = compute_metrics(equity, periods_per_year=periods_per_year, trades=trades)
    returns = len(equity) - 1
    needed = math.ceil(4.0 * periods_per_year / default_limit**2)
    reasons: list[str] = []
    note = ""
    if returns < needed:
        note = f"{returns} returns are too few to judge a Sharpe ratio ({needed} needed)"
    elif metrics.sharpe > limit:
        reasons.append(f"Sharpe {metrics.sharpe:.2f} on {bars} bars is above {limit:.2f}")
    win_rate = metrics.win_rate
    if (
        win_rate is not None
        and win_rate > WIN_RATE_LIMIT
        and metrics.num_trades >= WIN_RATE_MIN_TRADES
    ):
        reasons.append(
            f"win rate {win_rate:.2%} over {metrics.num_trades} closed trades is above "
            f"{WIN_RATE_LIMIT:.0%}"
        )
    return ResultCheck(
        sharpe=metrics.sharpe,
        periods_per_year=periods_per_year,
        bars=bars,
        sharpe_limit=limit,
        returns=returns,
        win_rate=win_rate,
        closed_trades=metrics.num_trades,
        reasons=tuple(reasons),
        note=note,
    )
