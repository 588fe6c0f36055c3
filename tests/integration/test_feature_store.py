"""The feature store on a real PostgreSQL: reuse by version and bars, new versions beside old."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import numpy as np
import pandas as pd
import pytest

from quant_db.feature_store import features_with_store
from quant_db.settings import get_settings
from quant_db.urls import asyncpg_dsn
from quant_features import FeatureSet, compute_features, load_feature_set, parse_feature_set
from tests.unit.cli.test_cli import quant
from tests.unit.features.panels import synthetic_panel

T = TypeVar("T")
CORE = "configs/features/daily_core_v1.yaml"
RANKS = "configs/features/daily_ranks_v1.yaml"


class CountingCompute:
    """compute_features, counting the symbols it was asked to compute."""

    def __init__(self) -> None:
        self.symbols: list[str] = []

    def __call__(self, feature_set: FeatureSet, bars: pd.DataFrame) -> pd.DataFrame:
        self.symbols.extend(dict.fromkeys(bars.index.get_level_values("symbol")))
        return compute_features(feature_set, bars)


def with_connection(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return await work(connection)
        finally:
            await connection.close()

    return asyncio.run(run())


def stored(url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    async def fetch(connection: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await connection.fetch(sql, *args)]

    return with_connection(url, fetch)


def run(url: str, feature_set: FeatureSet, bars: pd.DataFrame, compute: CountingCompute) -> Any:
    return with_connection(url, lambda c: features_with_store(c, feature_set, bars, compute))


def test_a_second_computation_of_the_same_set_reads_the_store(database_url: str) -> None:
    feature_set, bars, compute = load_feature_set(CORE), synthetic_panel(), CountingCompute()
    first, outcome = run(database_url, feature_set, bars, compute)
    assert (outcome.hit, compute.symbols) == (False, ["SYN000", "SYN001", "SYN002"])
    second, outcome = run(database_url, feature_set, bars, compute)
    assert outcome.hit
    assert outcome.reused == ["SYN000", "SYN001", "SYN002"]
    assert len(compute.symbols) == 3  # nothing recomputed
    pd.testing.assert_frame_equal(second, first, check_exact=True)
    pd.testing.assert_frame_equal(second, compute_features(feature_set, bars), check_exact=True)
    years = stored(database_url, "SELECT count(*), sum(rows) FROM computed_features")
    assert years == [(3 * 3, len(bars))]  # 700 weekdays from 2000: three UTC years per symbol


def test_a_changed_definition_is_a_new_version_and_leaves_the_old_one(database_url: str) -> None:
    bars, compute = synthetic_panel(), CountingCompute()
    old = load_feature_set(CORE)
    run(database_url, old, bars, compute)
    before = stored(database_url, "SELECT symbol, year, data FROM computed_features ORDER BY 1, 2")
    text = Path(CORE).read_text(encoding="utf-8")
    text = text.replace("length: 14\n  - kind: macd", "length: 10\n  - kind: macd")
    new = parse_feature_set(text, "changed.yaml")
    assert new.version != old.version
    _, outcome = run(database_url, new, bars, compute)
    assert not outcome.hit
    assert len(compute.symbols) == 6
    versions = stored(database_url, "SELECT version FROM feature_set_versions ORDER BY 1")
    assert sorted([(old.version,), (new.version,)]) == versions
    after = stored(
        database_url,
        "SELECT symbol, year, data FROM computed_features WHERE version = $1 ORDER BY 1, 2",
        old.version,
    )
    assert after == before


def test_changed_bars_of_one_symbol_recompute_that_symbol_only(database_url: str) -> None:
    feature_set, bars, compute = load_feature_set(CORE), synthetic_panel(), CountingCompute()
    run(database_url, feature_set, bars, compute)
    corrected = bars.copy()
    corrected.loc[("SYN001", corrected.xs("SYN001").index[300]), "close"] *= 1.01
    result, outcome = run(database_url, feature_set, corrected, compute)
    assert outcome.computed == ["SYN001"]
    assert outcome.reused == ["SYN000", "SYN002"]
    pd.testing.assert_frame_equal(
        result, compute_features(feature_set, corrected), check_exact=True
    )


def test_a_cross_sectional_set_is_reused_whole_or_computed_whole(database_url: str) -> None:
    feature_set, bars, compute = load_feature_set(RANKS), synthetic_panel(), CountingCompute()
    run(database_url, feature_set, bars, compute)
    corrected = bars.copy()
    corrected.loc[("SYN002", corrected.xs("SYN002").index[-1]), "close"] *= 1.2
    result, outcome = run(database_url, feature_set, corrected, compute)
    assert outcome.computed == ["SYN000", "SYN001", "SYN002"]
    last = result.xs(corrected.xs("SYN002").index[-1], level="timestamp")["xrank_ret_21"]
    assert last["SYN002"] == 1.0
    assert not np.isnan(last["SYN000"])
    two = bars[bars.index.get_level_values("symbol") != "SYN002"]
    _, outcome = run(database_url, feature_set, two, compute)
    assert outcome.version != feature_set.storage_version(["SYN000", "SYN001", "SYN002"])


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_cli_compute_prints_counts_and_hits_the_store_the_second_time(
    cli_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("features", "compute", CORE, "--symbols", "SP500,GOOG", "--start", "2015-01-01")
    code, out, err = quant(capsys, monkeypatch, *args)
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == "store: miss (0 symbols reused, 2 computed)"
    assert " 2 symbols, " in out
    assert " x 25 columns " in out  # the regime kind gives 4 columns since its version 2
    code, out, _ = quant(capsys, monkeypatch, *args)
    assert out.splitlines()[1] == "store: hit (2 symbols reused, 0 computed)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--symbols", "NOPE"), "error: --symbols: unknown symbol 'NOPE'"),
        (("--start", "2018-01-01", "--end", "2017-01-01"), "error: --start 2018-01-01 is after"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    cli_database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _, err = quant(capsys, monkeypatch, "features", "compute", CORE, *args)
    assert code == 2
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert stored(cli_database, "SELECT count(*) FROM computed_features") == [(0,)]


def test_a_symbol_whose_blocks_were_deleted_is_computed_again(database_url: str) -> None:
    feature_set, bars, compute = load_feature_set(CORE), synthetic_panel(), CountingCompute()
    run(database_url, feature_set, bars, compute)
    stored(database_url, "DELETE FROM computed_features WHERE symbol = 'SYN000' RETURNING 1")
    result, outcome = run(database_url, feature_set, bars, compute)
    assert outcome.computed == ["SYN000"]
    pd.testing.assert_frame_equal(result, compute_features(feature_set, bars), check_exact=True)
