"""Source specs ("samples", "synthetic:seed=7", a folder path) and whole-source validation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from quant_domain import ConfigError, DataError, DataNotFoundError, Timeframe
from quant_marketdata.base import DataSource
from quant_marketdata.folder import FolderSource
from quant_marketdata.problems import Check, ValidationProblem
from quant_marketdata.samples import SampleSource
from quant_marketdata.synthetic import SyntheticSource
from quant_marketdata.validation import ValidationReport, validate_bars

SYNTHETIC_PREFIX = "synthetic:"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def _start(text: str) -> str:
    return date.fromisoformat(text).isoformat()


_SYNTHETIC_KEYS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "seed": ("seed", _seed, "an integer >= 0"),
    "symbols": ("n_symbols", _positive_int, "an integer >= 1"),
    "bars": ("n_bars", _positive_int, "an integer >= 1"),
    "timeframe": ("timeframe", Timeframe.parse, "a timeframe such as 1d or 1h"),
    "start": ("start", _start, "a date YYYY-MM-DD"),
    "decimals": ("decimals", int, "an integer 0..8"),
}
"""Spec key -> (SyntheticSource argument, parser, what a valid value looks like)."""


def open_source(spec: str) -> DataSource:
    """The data source a spec names.

    "samples" is the bundled real data; "synthetic" or "synthetic:seed=7,symbols=20,bars=5000,
    timeframe=1d,start=2000-01-03,decimals=4" (any subset of keys) the generator; anything else a folder.

    Raises:
        ConfigError: a synthetic spec has an unknown key or a bad value (names the key).
        DataNotFoundError: the folder does not exist.
    """
    text = spec.strip()
    if text == "samples":
        return SampleSource()
    if text == "synthetic":
        return SyntheticSource()
    if text.startswith(SYNTHETIC_PREFIX):
        return SyntheticSource(**_synthetic_arguments(text.removeprefix(SYNTHETIC_PREFIX)))
    return FolderSource(Path(text))


def _synthetic_arguments(options: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, sep, value = (piece.strip() for piece in item.partition("="))
        if key not in _SYNTHETIC_KEYS:
            known = ", ".join(_SYNTHETIC_KEYS)
            raise ConfigError(f"unknown synthetic option {key!r}; use {known}", field=key)
        name, parse, expected = _SYNTHETIC_KEYS[key]
        if not sep or not value:
            raise ConfigError(f"no value given; write {key}=<{expected}>", field=key)
        if name in arguments:
            raise ConfigError("given twice", field=key)
        try:
            arguments[name] = parse(value)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{value!r} is not {expected}", field=key) from exc
    return arguments


def validate_source(source: DataSource, symbols: Iterable[str] | None = None) -> ValidationReport:
    """Run every check on the stored bars of `symbols` (all of them when None).

    Data problems are reported, never raised, including files that cannot be read at all.

    Raises:
        DataNotFoundError: a requested symbol does not exist in `source`.
    """
    chosen = list(symbols) if symbols is not None else source.symbols()
    problems: dict[str, tuple[ValidationProblem, ...]] = {}
    bars: dict[str, int] = {}
    for symbol in chosen:
        try:
            raw = source.raw_bars(symbol)
        except DataNotFoundError:
            raise
        except DataError as exc:
            problems[symbol] = (_unreadable(symbol, exc),)
            bars[symbol] = 0
            continue
        calendar = source.instrument(symbol).calendar
        found = validate_bars(raw.frame, symbol, calendar, raw.location, raw.timeframe)
        problems[symbol] = tuple(found)
        bars[symbol] = len(raw.frame)
    return ValidationReport(problems, bars)


def _unreadable(symbol: str, error: DataError) -> ValidationProblem:
    return ValidationProblem(symbol, Check.UNREADABLE, None, None, str(error))
