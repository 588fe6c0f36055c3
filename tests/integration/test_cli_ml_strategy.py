"""`quant train` on the feature store, then `quant backtest` of xgb_direction_v1 with the model
it registered, on the S&P 500 sample and a real PostgreSQL: the report names the model and its
out-of-sample part; a corrupt artifact stops the run with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quant_db.schema import RegisteredModel
from tests.integration.test_cli_models import _db, platform  # noqa: F401 - the fixture
from tests.unit.cli.test_cli import quant

TRAIN = """\
name: sp500_direction
inputs:
  features: {set: daily_core_v1, data: samples, symbols: [SP500], start: 2001-01-01, end: 2010-12-31}
label: {kind: fixed_horizon, horizon: 5, threshold: 0.0}
model:
  params: {n_estimators: 30, max_depth: 3}
validation:
  walk_forward: {n_splits: 3, embargo_days: 7}
"""

STRATEGY = """\
id: xgb_test
class: quant_strategy.builtin.xgb_direction:XgbDirection
universe: [SP500]
timeframe: 1d
data: samples
params:
  features: daily_core_v1
  label: {kind: fixed_horizon, horizon: 5, threshold: 0.0, binary: true}
  model: sp500_direction
  long_above: 0.55
  exit_below: 0.5
"""


def test_train_on_the_feature_store_then_backtest_the_model_from_the_registry(
    platform: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train = tmp_path / "train.yaml"
    train.write_text(TRAIN)
    code, out, err = quant(capsys, monkeypatch, "train", str(train))
    assert (code, err) == (0, "")
    assert "store miss (0 symbols reused, 1 computed)" in out
    assert "25 features" in out
    version = out.split("version ")[1].split(":")[0]
    code, out, err = quant(capsys, monkeypatch, "train", str(train))
    assert (code, err) == (0, "")
    assert "store hit (1 symbols reused, 0 computed)" in out
    assert "registered sp500_direction v2" in out

    async def read(session: Any) -> list[RegisteredModel]:
        return list(
            await session.scalars(select(RegisteredModel).order_by(RegisteredModel.version))
        )

    first, second = _db(platform, read)
    assert first.feature_set_version == second.feature_set_version == version
    assert first.data_fingerprint == second.data_fingerprint
    assert first.artifact_sha256 == second.artifact_sha256  # deterministic training

    strategy = tmp_path / "xgb_test.yaml"
    strategy.write_text(STRATEGY)
    code, out, err = quant(
        capsys, monkeypatch, "backtest", str(strategy), "--out", str(tmp_path / "report")
    )
    assert (code, err) == (0, "")
    assert "model: sp500_direction:2" in out
    assert "this run after 2010-12-31" in out  # label windows end by the training range's end
    result = json.loads((tmp_path / "report" / "result.json").read_text())
    model = result["metadata"]["model"]
    assert model["sha256"] == second.artifact_sha256
    assert model["out_of_sample"]["bars"] > 1900  # 2011-2018
    assert "sp500_direction:2" in (tmp_path / "report" / "report.html").read_text()

    # a paper replay of the same bars with the same model lines up with its backtest
    code, out, err = quant(
        capsys,
        monkeypatch,
        *("paper-replay", str(strategy), "--start", "2015-01-01", "--end", "2016-12-31"),
        *("--speed", "max"),
    )
    assert (code, err) == (0, "")
    assert "parity with the backtest of the same bars: identical" in out
    assert "identical: 0 orders" not in out  # the model traded in the replay

    # a corrupt copy of the artifact is refused before a bar is traded
    artifact = tmp_path / "state" / "artifacts" / "models" / "sha256" / second.artifact_sha256[:2]
    (artifact / second.artifact_sha256).write_bytes(b"not the model")
    code, out, err = quant(capsys, monkeypatch, "backtest", str(strategy), "--out", str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1
    assert "params.model" in err
    assert "is corrupt" in err


def test_a_backtest_of_a_model_the_registry_lacks_exits_2_naming_the_field(
    platform: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strategy = tmp_path / "xgb_test.yaml"
    strategy.write_text(STRATEGY)
    code, _, err = quant(capsys, monkeypatch, "backtest", str(strategy), "--out", str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1
    assert "xgb_test.yaml:9: params.model" in err
    assert "no model 'sp500_direction' in the registry" in err
