"""Market data: the catalogue of ingested bars, and a run's prices for its charts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from quant_api.schemas.v1.common import Amount


class SymbolPublic(BaseModel):
    """One symbol and timeframe with bars in the database."""

    symbol: str
    timeframe: str = Field(description="bar length as stored, e.g. 1d or 1m")
    first_ts: datetime = Field(description="time of the first bar")
    last_ts: datetime = Field(description="time of the last bar")
    bar_count: int = Field(ge=1)


class PriceBarPublic(BaseModel):
    """One OHLCV bar; after downsampling, one bucket of consecutive bars merged."""

    ts: datetime = Field(description="time of the (bucket's first) bar")
    open: Amount
    high: Amount
    low: Amount
    close: Amount
    volume: Amount


class IndicatorPoint(BaseModel):
    ts: datetime = Field(description="the bar's (bucket's first bar's) time, as in `bars`")
    value: float = Field(description="the indicator at the bucket's last bar")


class IndicatorLine(BaseModel):
    """One of the strategy's indicators, computed over every bar, then sampled like the bars."""

    name: str = Field(description="as the strategy labels it, e.g. `SMA 20`")
    points: list[IndicatorPoint] = Field(
        description="one per bar of `bars` where the indicator is defined (none during its warm-up)"
    )


class PriceSeries(BaseModel):
    """A run's symbol over the run's date range, at most `points` bars."""

    run_id: uuid.UUID
    symbol: str
    timeframe: str = Field(description="the stored timeframe read (the run's, when ingested)")
    start: datetime | None = Field(description="the run's start (null: from the first bar)")
    end: datetime | None = Field(description="the run's end (null: to the last bar)")
    source: Literal["database", "none"] = Field(
        description="database: bars read from price_bars; none: the run's bars are not in the "
        "database, `bars` is empty and `note` says why"
    )
    run_data_source: str | None = Field(
        description="where the run read its bars, as it recorded (db, samples, folder, "
        "synthetic); null until the worker has run it"
    )
    note: str | None = Field(description="why `bars` is empty, when it is")
    total_bars: int = Field(ge=0, description="bars in the range before downsampling")
    bars: list[PriceBarPublic] = Field(
        description="by time; with more bars than `points`, equal runs of consecutive bars are "
        "merged (first open, highest high, lowest low, last close, summed volume)"
    )
    indicators: list[IndicatorLine] = Field(
        description="the strategy's own indicators on this symbol (Strategy.indicator_series) "
        "with the run's params, computed over every bar the run read (its warm-up included), "
        "then taken at each bucket's last bar; empty when the strategy draws none"
    )
    indicators_note: str | None = Field(
        description="why `indicators` is empty when the strategy might have drawn some"
    )
