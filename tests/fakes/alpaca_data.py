"""A local stand-in for Alpaca's market-data API (GET /v2/stocks/bars) that alpaca-py can call.

It speaks the protocol alpaca-py's StockHistoricalDataClient uses (see alpaca/common/rest.py and
alpaca/data/historical/stock.py): APCA-API-KEY-ID / APCA-API-SECRET-KEY headers, the query
parameters symbols, timeframe, start, end, limit, page_token, feed and adjustment, and the answer
{"bars": {"SYM": [{"t", "o", "h", "l", "c", "v", "n", "vw"}]}, "next_page_token": ...}, bars
sorted by symbol then time, daily bars stamped 00:00 New York time, errors as {"message": ...}.
It never answers 429 or 504, the codes alpaca-py retries with 3 s sleeps.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

KEY_ID = "fake-key-id"
SECRET_KEY = "fake-secret-key"
BARS_PATH = "/v2/stocks/bars"
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
NEW_YORK = ZoneInfo("America/New_York")
FEEDS = frozenset({"iex", "sip", "delayed_sip", "otc", "boats", "overnight"})
ADJUSTMENTS = frozenset({"raw", "split", "dividend", "all"})
SERVED_TIMEFRAMES = ("1Min", "1Hour", "1Day")
BAR_COLUMNS = ("open", "high", "low", "close", "volume")
_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
_UNIT_NAMES = {"T": "Min", "H": "Hour", "D": "Day", "W": "Week", "M": "Month"}

Row = dict[str, Any]


class _Refused(Exception):
    """An error answer: HTTP status and Alpaca's JSON body."""

    def __init__(self, status: HTTPStatus, body: Row) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


class FakeAlpacaData:
    """Serves `bars` (contract frames keyed by symbol) as Alpaca `timeframe` bars on 127.0.0.1.

    Use as a context manager; `url` is the bare origin alpaca-py's `url_override` wants.
    `page_size` caps bars per page below the requested limit (Alpaca caps at 10,000), so small
    values force pagination. `requests` records every query received, in order.
    """

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        timeframe: str = "1Day",
        page_size: int = MAX_LIMIT,
        key_id: str = KEY_ID,
        secret_key: str = SECRET_KEY,
    ) -> None:
        if timeframe not in SERVED_TIMEFRAMES:
            raise ValueError(f"the fake serves {', '.join(SERVED_TIMEFRAMES)}, not {timeframe}")
        self.timeframe = timeframe
        self.page_size = page_size
        self.key_id = key_id
        self.secret_key = secret_key
        self.requests: list[dict[str, str]] = []
        self._rows = {symbol: _rows(frame, timeframe) for symbol, frame in sorted(bars.items())}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeAlpacaData:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def answer(self, path: str, query: Mapping[str, str], headers: Message) -> Row:
        """The JSON body for one GET; raises _Refused for the error answers."""
        with self._lock:
            self.requests.append(dict(query))
        if path != BARS_PATH:
            raise _Refused(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        if (
            headers.get("APCA-API-KEY-ID") != self.key_id
            or headers.get("APCA-API-SECRET-KEY") != self.secret_key
        ):
            raise _Refused(HTTPStatus.FORBIDDEN, {"message": "forbidden."})
        symbols = [s for s in query.get("symbols", "").split(",") if s]
        if not symbols:
            raise _invalid(40010001, "no symbol specified", HTTPStatus.BAD_REQUEST)
        self._check_timeframe(query.get("timeframe", ""))
        start = _instant(query, "start", datetime.combine(date.today(), time.min, tzinfo=UTC))
        end = _instant(query, "end", datetime.now(UTC))
        limit = _limit(query.get("limit"))
        if query.get("feed", "sip") not in FEEDS:
            raise _invalid(42210000, f"invalid feed: {query['feed']!r}")
        if query.get("adjustment", "raw") not in ADJUSTMENTS:
            raise _invalid(42210000, f"invalid adjustment: {query['adjustment']!r}")
        offset = _offset(query.get("page_token"))
        chosen = [
            (symbol, row)
            for symbol in sorted(set(symbols))
            for stamp, row in self._rows.get(symbol, [])
            if start <= stamp <= end
        ]
        page = chosen[offset : offset + min(limit, self.page_size)]
        grouped: dict[str, list[Row]] = {}
        for symbol, row in page:
            grouped.setdefault(symbol, []).append(row)
        following = offset + len(page)
        token = _token(following) if following < len(chosen) else None
        return {"bars": grouped, "next_page_token": token}

    def _check_timeframe(self, text: str) -> None:
        match = _TIMEFRAME.match(text)
        if match is None:
            raise _invalid(42210000, "invalid timeframe")
        unit = _UNIT_NAMES.get(match.group(2), match.group(2))
        if f"{int(match.group(1))}{unit}" != self.timeframe:
            raise _invalid(42210000, f"this fake holds {self.timeframe} bars only, not {text}")


def _rows(frame: pd.DataFrame, timeframe: str) -> list[tuple[datetime, Row]]:
    """Alpaca JSON bars for a contract frame; daily bars move to 00:00 New York of their date."""
    columns = {name: frame[name].to_numpy(dtype=np.float64).tolist() for name in BAR_COLUMNS}
    rows = []
    for position, stamp in enumerate(pd.DatetimeIndex(frame.index).to_pydatetime()):
        moment = stamp
        if timeframe == "1Day":
            moment = datetime.combine(stamp.date(), time.min, tzinfo=NEW_YORK)
        moment = moment.astimezone(UTC)
        o, h, low, c, v = (columns[name][position] for name in BAR_COLUMNS)
        row: Row = {
            "t": moment.isoformat().replace("+00:00", "Z"),
            "o": o,
            "h": h,
            "l": low,
            "c": c,
            "v": int(v) if v.is_integer() else v,
            # The sample files carry neither; Alpaca always sends both.
            "n": 0,
            "vw": round((h + low + c) / 3, 4),
        }
        rows.append((moment, row))
    return rows


def _invalid(
    code: int, message: str, status: HTTPStatus = HTTPStatus.UNPROCESSABLE_ENTITY
) -> _Refused:
    return _Refused(status, {"code": code, "message": message})


def _instant(query: Mapping[str, str], name: str, default: datetime) -> datetime:
    text = query.get(name)
    if not text:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(42210000, f"invalid {name}: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _invalid(42210000, f"invalid limit: must be between 1 and {MAX_LIMIT}")
    return int(text)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "offset" or not number.isdigit():
        raise _invalid(42210000, "invalid page token")
    return int(number)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAlpacaData) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            status, body = HTTPStatus.OK, self.server.fake.answer(parts.path, query, self.headers)
        except _Refused as refused:
            status, body = refused.status, refused.body
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake's requests are in `FakeAlpacaData.requests`."""
