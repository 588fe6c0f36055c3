"""Reproducibility facts: code version, config hash, data fingerprint."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quant_backtest.result import RunMetadata
from quant_db import provenance

_PACKAGES = (
    "quant-domain",
    "quant-strategy",
    "quant-engine",
    "quant-marketdata",
    "quant-backtest",
    "numpy",
    "pandas",
)


def code_version(start: Path | None = None) -> str:
    """QUANT_CODE_VERSION when set (container images have no .git), else the git commit of the
    checkout (with -dirty when files changed), else the package version."""
    fallback = f"quant-backtest {importlib_metadata.version('quant-backtest')}"
    return provenance.code_version(
        start=start or Path(__file__).resolve().parent, fallback=fallback
    )


def config_hash(*configs: dict[str, Any]) -> str:
    """sha256 of the configs as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(configs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def data_fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """sha256 over every symbol's timestamps and OHLCV values, in symbol order."""
    digest = hashlib.sha256()
    for symbol in sorted(frames):
        frame = frames[symbol]
        stamps = pd.DatetimeIndex(frame.index).as_unit("us")
        digest.update(symbol.encode())
        digest.update(np.ascontiguousarray(stamps.asi8).data)
        # the values' bytes row by row as one float64 matrix would hold them, fed a block of
        # rows at a time: the same digest without a copy of the whole frame (twice) in memory
        for start in range(0, len(frame), _FINGERPRINT_ROWS):
            rows = frame.iloc[start : start + _FINGERPRINT_ROWS]
            digest.update(np.ascontiguousarray(rows.to_numpy(dtype=np.float64)).data)
    return digest.hexdigest()


_FINGERPRINT_ROWS = 65_536


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def build_metadata(
    *,
    strategy_config: dict[str, Any],
    backtest_config: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    seed: int,
    data_source: str,
    engine: str = "",
) -> RunMetadata:
    return RunMetadata(
        code_version=code_version(),
        # the engine setting is left out: both paths give the same result (ADR 0006)
        config_hash=config_hash(
            strategy_config, {k: v for k, v in backtest_config.items() if k != "engine"}
        ),
        data_fingerprint=data_fingerprint(frames),
        seed=seed,
        created_at=datetime.now(UTC),
        python_version=sys.version.split()[0],
        platform=platform.platform(),
        package_versions=package_versions(),
        data_source=data_source,
        engine=engine,
    )
