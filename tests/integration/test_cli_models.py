"""`quant train CONFIG` then `quant models list|show|promote|demote` on a real PostgreSQL; bad
configs and refused promotions exit 2 with one line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_db.schema import AuditEntry, RegisteredModel, User
from quant_db.schema.identity import Role
from quant_db.settings import get_settings
from tests.unit.cli.test_cli import quant

CONFIG = """\
name: tiny_direction
inputs:
  synthetic: {n_symbols: 4, n_dates: 200, n_features: 5, horizon: 5, signal: 0.6}
label: {kind: synthetic, horizon: 5}
model:
  params: {n_estimators: 20, max_depth: 3}
  candidates:
    - {max_depth: 2}
validation:
  walk_forward: {n_splits: 3, embargo_days: 2}
  cpcv: {n_groups: 4, n_test_groups: 2, embargo_days: 2}
"""


def _db(url: str, work: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


@pytest.fixture
def platform(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("QUANT_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()

    async def seed(session: Any) -> None:
        session.add(User(username="root", password_hash="x", role=Role.ADMIN))
        session.add(User(username="eve", password_hash="x", role=Role.TRADER))

    _db(database_url, seed)
    yield database_url
    get_settings.cache_clear()


def test_train_registers_a_candidate_with_its_lineage_and_artifact(
    platform: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG)
    code, out, err = quant(capsys, monkeypatch, "train", str(config))
    assert (code, err) == (0, "")
    assert "candidate 0: walk-forward OOS Sharpe" in out
    assert "CPCV: 3 paths" in out
    assert "registered tiny_direction v1 (#" in out

    async def read(session: Any) -> Any:
        return await session.scalar(select(RegisteredModel))

    model = _db(platform, read)
    assert model.stage == "candidate"
    assert model.validation["n_trials"] == 2
    assert model.validation["pbo"] is not None
    assert len(model.validation["cpcv"]["path_sharpes"]) == 3
    assert model.label_definition == {"kind": "synthetic", "horizon": 5}
    assert len(model.data_fingerprint) == 64
    artifact = tmp_path / "state" / "artifacts" / "models" / "sha256" / model.artifact_sha256[:2]
    assert (artifact / model.artifact_sha256).is_file()

    code, out, _ = quant(capsys, monkeypatch, "models", "list")
    assert code == 0
    assert "tiny_direction" in out
    assert "candidate" in out
    code, out, _ = quant(capsys, monkeypatch, "models", "show", "tiny_direction")
    assert code == 0
    assert "stage candidate" in out
    assert "CPCV          3 paths" in out
    assert "-> candidate: trained" in out

    # the gate decides: a lax policy lets it into paper; live needs days in paper
    code, out, err = quant(
        capsys,
        monkeypatch,
        *("models", "promote", "tiny_direction", "--reason", "looks fine", "--user", "root"),
        *("--min-oos-sharpe", "-100", "--min-dsr", "0"),
    )
    assert (code, err) == (0, "")
    assert out.strip().endswith("candidate -> paper")
    code, out, err = quant(
        capsys,
        monkeypatch,
        *("models", "promote", "tiny_direction", "--reason", "go live", "--user", "root"),
        *("--min-oos-sharpe", "-100", "--min-dsr", "0"),
    )
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: tiny_direction v1 (#")
    assert "stays paper: paper_days 0.000 < 20" in err
    code, out, _ = quant(
        capsys,
        monkeypatch,
        *("models", "demote", "tiny_direction:1", "--reason", "not yet", "--user", "root"),
    )
    assert code == 0
    assert out.strip().endswith("paper -> candidate")

    async def audit(session: Any) -> list[str]:
        return [e.action for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]

    assert _db(platform, audit) == [
        "model.register",
        "model.promote",
        "model.promote_refused",
        "model.demote",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\n", "train.yaml:1: inputs: required field is missing"),
        (
            CONFIG.replace("max_depth: 3}", "max_depth: 3, depth: 2}"),
            "train.yaml:6: model.params.depth: unknown field (check the spelling)",
        ),
        (
            CONFIG.replace("n_test_groups: 2", "n_test_groups: 4"),
            "train.yaml:11: validation.cpcv: n_test_groups must be below n_groups (4)",
        ),
        (CONFIG.replace("name: tiny_direction", "name: a b"), "train.yaml:1: name: String should"),
        ("name: [", "train.yaml:1: YAML syntax error"),
    ],
)
def test_a_bad_training_config_exits_2_with_one_line_naming_file_line_and_field(
    platform: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    expected: str,
) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(text)
    code, out, err = quant(capsys, monkeypatch, "train", str(config))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {tmp_path}/{expected}")

    async def count(session: Any) -> int:
        return len(list(await session.scalars(select(RegisteredModel))))

    assert _db(platform, count) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "nope"], "error: no model 'nope' in the registry (see `quant models list`)"),
        (
            ["promote", "nope", "--reason", "x", "--user", "eve"],
            "error: --user: 'eve' is not an active admin",
        ),
        (
            ["promote", "nope", "--reason", "x", "--user", "root", "--min-dsr", "2"],
            "error: --min-dsr: Input should be less than or equal to 1",
        ),
        (["promote", "nope", "--user", "root"], "error: Missing option '--reason'"),
    ],
)
def test_bad_model_commands_exit_2_with_one_line(
    platform: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: str,
) -> None:
    code, _, err = quant(capsys, monkeypatch, "models", *args)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(expected)
