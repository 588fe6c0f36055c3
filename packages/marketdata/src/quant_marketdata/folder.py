"""A folder of bar files, one symbol per file: SYMBOL.csv, SYMBOL.csv.gz or SYMBOL.parquet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from quant_domain import DataError, DataNotFoundError, Instrument
from quant_domain.instruments import is_valid_symbol
from quant_marketdata.bar_files import BAR_FILE_SUFFIXES, bar_file_symbol, read_bar_file
from quant_marketdata.cached_source import CachedSource
from quant_marketdata.raw_bars import RawBars

_SYMBOLS_IN_MESSAGE = 20


class FolderSource(CachedSource):
    """Bars read from files in one folder; the file name (without suffix) is the symbol.

    Every symbol is an equity on the XNYS calendar unless `instruments` says otherwise.
    """

    name = "folder"

    def __init__(self, path: str | Path, instruments: Mapping[str, Instrument] | None = None):
        super().__init__()
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise DataNotFoundError(
                f"data folder {self.path} does not exist; pass a folder of <SYMBOL>.csv, "
                "<SYMBOL>.csv.gz or <SYMBOL>.parquet files"
            )
        self._instruments = dict(instruments or {})
        self._listing: dict[str, list[Path]] | None = None

    def symbols(self) -> list[str]:
        return sorted(self._files())

    def instrument(self, symbol: str) -> Instrument:
        return self._instruments.get(symbol) or super().instrument(symbol)

    def raw_bars(self, symbol: str) -> RawBars:
        path = self._file_for(symbol)
        with path.open("rb") as stream:
            return read_bar_file(path.name, stream)

    def _files(self) -> dict[str, list[Path]]:
        """Symbol -> its bar files, listed once per instance (files added later are not seen)."""
        if self._listing is None:
            found: dict[str, list[Path]] = {}
            for entry in sorted(self.path.iterdir()):
                symbol = bar_file_symbol(entry.name)
                if symbol is not None and is_valid_symbol(symbol) and entry.is_file():
                    found.setdefault(symbol, []).append(entry)
            self._listing = found
        return self._listing

    def _file_for(self, symbol: str) -> Path:
        files = self._files()
        paths = files.get(symbol)
        if paths is None:
            raise DataNotFoundError(self._unknown(symbol, sorted(files)))
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise DataError(f"{self.path}: {names} all hold {symbol}; keep only one of them")
        return paths[0]

    def _unknown(self, symbol: str, available: list[str]) -> str:
        looked = ", ".join(f"{symbol}{suffix}" for suffix in BAR_FILE_SUFFIXES)
        shown = ", ".join(available[:_SYMBOLS_IN_MESSAGE]) or "none"
        if len(available) > _SYMBOLS_IN_MESSAGE:
            shown += f", ... ({len(available)} in all)"
        return f"no data for {symbol!r} in {self.path} (looked for {looked}); available: {shown}"
