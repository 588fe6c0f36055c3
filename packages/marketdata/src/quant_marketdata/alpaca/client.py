"""AlpacaSource: historical stock bars from Alpaca's market-data API, fetched once per symbol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alpaca.common.exceptions import APIError
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import BarSet

from quant_domain import ConfigError, DataError, DataNotFoundError, Timeframe, ensure_utc
from quant_marketdata.alpaca.mapping import (
    alpaca_timeframe,
    bars_request,
    to_data_error,
    to_raw_bars,
)
from quant_marketdata.alpaca.settings import AlpacaDataSettings, get_settings
from quant_marketdata.cached_source import CachedSource
from quant_marketdata.raw_bars import RawBars

DEFAULT_DATA_URL = "https://data.alpaca.markets"
DAILY_SYMBOLS_PER_REQUEST = 100
"""Daily bars of many symbols share requests (pages hold 10,000 bars across symbols); intraday
bars are fetched one symbol at a time so memory holds one symbol's history, not a hundred."""


class AlpacaSource(CachedSource):
    """Bars of the requested stock symbols between `start` and `end` from Alpaca.

    Daily bars are labelled by their session date at 00:00 UTC, intraday bars by their open time
    (UTC). A symbol's bars are fetched on first use (all pages), together with other daily
    symbols not fetched yet, and then served from memory.
    """

    name = "alpaca"

    def __init__(
        self,
        symbols: Sequence[str],
        start: datetime,
        end: datetime | None = None,
        timeframe: Timeframe | str = "1d",
        settings: AlpacaDataSettings | None = None,
        symbols_per_request: int | None = None,
    ) -> None:
        """Check the arguments and the API keys; nothing is fetched yet.

        Args:
            symbols: stock symbols as Alpaca spells them, e.g. ["GOOG", "SPY"].
            start: first bar wanted (UTC-aware); daily bars count from their session date.
            end: last bar wanted (UTC-aware); None is "up to now", which may include today's
                unfinished daily bar.
            timeframe: 1d (default), or 1-59m / 1-23h.
            settings: keys, URL, feed and adjustment; None reads them from the environment.
            symbols_per_request: how many symbols share one request; None picks by timeframe.

        Raises:
            ConfigError: no symbols, end before start, a timeframe Alpaca lacks, or
                APCA_API_KEY_ID / APCA_API_SECRET_KEY unset.
        """
        super().__init__()
        self._symbols = list(dict.fromkeys(s.strip() for s in symbols if s.strip()))
        if not self._symbols:
            raise ConfigError("no symbols given; Alpaca serves only the symbols asked for")
        self._start = ensure_utc(start)
        self._end = None if end is None else ensure_utc(end)
        if self._end is not None and self._end < self._start:
            raise ConfigError(f"end {self._end:%Y-%m-%d} is before start {self._start:%Y-%m-%d}")
        self._timeframe = Timeframe.parse(timeframe) if isinstance(timeframe, str) else timeframe
        alpaca_timeframe(self._timeframe)
        self._settings = settings if settings is not None else get_settings()
        key_id, secret_key = self._settings.credentials()
        self._client = StockHistoricalDataClient(
            key_id, secret_key, url_override=self._settings.data_url
        )
        default_batch = 1 if self._timeframe.is_intraday else DAILY_SYMBOLS_PER_REQUEST
        self._per_request = max(1, symbols_per_request or default_batch)
        self._fetched: dict[str, RawBars] = {}

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def native_timeframe(self, symbol: str) -> Timeframe:
        self._check_requested(symbol)
        return self._timeframe

    def raw_bars(self, symbol: str) -> RawBars:
        """`symbol`'s bars as Alpaca sent them (relabelled), fetching them on first use.

        Raises:
            DataNotFoundError: `symbol` was not requested, or Alpaca has no bars for it.
            DataError: Alpaca refused the request or could not be reached.
        """
        self._check_requested(symbol)
        if symbol not in self._fetched:
            self._fetch(self._batch_from(symbol))
        raw = self._fetched[symbol]
        if raw.frame.empty:
            raise DataNotFoundError(
                f"Alpaca returned no {self._timeframe} bars for {symbol!r} in {self._period()} "
                f"(feed {self._settings.feed}); check the symbol and the dates"
            )
        return raw

    def _check_requested(self, symbol: str) -> None:
        if symbol not in self._symbols:
            raise DataNotFoundError(
                f"{symbol!r} was not requested from source 'alpaca'; "
                f"it serves {', '.join(self._symbols)}"
            )

    def _batch_from(self, symbol: str) -> list[str]:
        waiting = [s for s in self._symbols if s != symbol and s not in self._fetched]
        return [symbol, *waiting[: self._per_request - 1]]

    def _fetch(self, batch: list[str]) -> None:
        request = bars_request(
            batch,
            self._start,
            self._end,
            self._timeframe,
            self._settings.feed,
            self._settings.adjustment,
        )
        what = f"{self._timeframe} bars for {', '.join(batch)} in {self._period()}"
        try:
            answer = self._client.get_stock_bars(request)
        except APIError as exc:
            raise to_data_error(exc, what) from exc
        except OSError as exc:  # requests' connection and timeout errors are OSErrors
            url = self._settings.data_url or DEFAULT_DATA_URL
            raise DataError(
                f"could not reach Alpaca's data API at {url} for {what}: {exc}"
            ) from exc
        except ValueError as exc:  # a body alpaca-py cannot parse
            raise DataError(f"Alpaca sent an unreadable answer for {what}: {exc}") from exc
        if not isinstance(answer, BarSet):
            raise DataError(f"alpaca-py returned {type(answer).__name__} for {what}, not a BarSet")
        for symbol in batch:
            self._fetched[symbol] = to_raw_bars(
                symbol, answer.data.get(symbol, []), self._timeframe
            )

    def _period(self) -> str:
        end = "now" if self._end is None else f"{self._end:%Y-%m-%d}"
        return f"{self._start:%Y-%m-%d}..{end}"
