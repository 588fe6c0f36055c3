"""A run's price chart carries its strategy's own indicators: computed over every bar the run
read (warm-up included) with the run's params, then sampled like the bars."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from quant_features import sma
from quant_ingestion import ingest
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config
from tests.integration.api.seed import Person, Seeder

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
WARMUP = 30


@pytest.fixture
def viewer(seed: Seeder) -> Person:
    return seed.user("viewer", Role.VIEWER)


@pytest.fixture
def sp500(database_url: str) -> pd.DataFrame:
    source = SampleSource()
    ingest(source, ["SP500", "GOOG"], database_url)
    return source.get_bars("SP500")


def _momentum_run(seed: Seeder) -> object:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        params={"fast": 5, "slow": 20}, benchmark="GOOG"
    )
    return seed.run(
        config=config.model_dump(mode="json", by_alias=True),
        backtest_config={"start": "2010-01-01", "end": "2010-12-31", "warmup_bars": WARMUP},
        repro={"data_source": "db"},
    )


def _read(line: dict[str, object]) -> dict[float, float]:
    points = line["points"]
    assert isinstance(points, list)
    return {datetime.fromisoformat(p["ts"]).timestamp(): p["value"] for p in points}


@pytest.mark.parametrize("points", [10, 1000])
def test_momentum_prices_carry_its_smas_from_every_bar_it_read_sampled_like_the_bars(
    client: TestClient, seed: Seeder, viewer: Person, sp500: pd.DataFrame, points: int
) -> None:
    run_id = _momentum_run(seed)
    body = client.get(
        f"/v1/runs/{run_id}/prices?symbol=SP500&points={points}", headers=viewer.headers
    ).json()
    assert body["indicators_note"] is None
    assert [line["name"] for line in body["indicators"]] == ["SMA 5", "SMA 20"]

    in_2010 = sp500.loc["2010-01-01":"2010-12-31"]
    before = sp500.loc[:"2009-12-31"].iloc[-WARMUP:]
    read = pd.concat([before, in_2010])
    n = len(in_2010)
    buckets = np.arange(n) * points // n
    last = np.flatnonzero(np.diff(buckets, append=buckets[-1] + 1))
    first = np.concatenate(([0], last[:-1] + 1))
    stamps = [ts.timestamp() for ts in in_2010.index[first]]
    assert [datetime.fromisoformat(b["ts"]).timestamp() for b in body["bars"]] == stamps
    for line, period in zip(body["indicators"], (5, 20), strict=True):
        full = sma(read["close"].to_numpy(dtype=np.float64), period)[WARMUP:]
        expected = dict(zip(stamps, full[last].tolist(), strict=True))
        served = _read(line)
        # warm-up bars fill the SMA: defined from the run's first bar
        assert served.keys() == {ts for ts, v in expected.items() if not math.isnan(v)}
        assert len(served) == len(stamps)
        for ts, value in served.items():
            assert math.isclose(value, expected[ts], rel_tol=1e-9)


def test_the_benchmark_symbol_and_strategies_without_indicators_draw_none(
    client: TestClient, seed: Seeder, viewer: Person, sp500: pd.DataFrame
) -> None:
    run_id = _momentum_run(seed)
    bench = client.get(f"/v1/runs/{run_id}/prices?symbol=GOOG", headers=viewer.headers).json()
    assert bench["bars"]
    assert (bench["indicators"], bench["indicators_note"]) == ([], None)

    config = load_strategy_config(CONFIGS / "buy_and_hold.yaml")
    held = seed.run(
        config=config.model_dump(mode="json", by_alias=True),
        backtest_config={"start": "2010-01-01", "end": "2010-12-31"},
        repro={"data_source": "db"},
    )
    body = client.get(f"/v1/runs/{held}/prices?symbol=SP500", headers=viewer.headers).json()
    assert body["bars"]
    assert (body["indicators"], body["indicators_note"]) == ([], None)
