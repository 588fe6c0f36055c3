"""The model registry on a real PostgreSQL: versions, lineage, gated stages, audited decisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_db.schema import AuditEntry, ModelStage, User
from quant_db.schema.identity import Role
from quant_models import registry
from quant_models.artifacts import ArtifactStore, fetch
from quant_models.errors import RegistryError
from quant_models.registry import GatePolicy
from quant_models.synthetic import synthetic_panel
from quant_models.xgboost_model import XGBoostModel, XGBoostParams

T0 = datetime(2026, 1, 5, tzinfo=UTC)
GOOD = {"oos_sharpe": 1.4, "dsr": 0.99}
WEAK = {"oos_sharpe": 0.2, "dsr": 0.40}


def db(url: str, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _admin(session: AsyncSession) -> User:
    user = await session.scalar(select(User).where(User.username == "root"))
    if user is None:
        user = User(username="root", password_hash="x", role=Role.ADMIN)
        session.add(user)
        await session.flush()
    return user


def _register(url: str, store: ArtifactStore, validation: dict[str, Any], name: str = "dir") -> int:
    data = synthetic_panel(n_symbols=3, n_dates=120, n_features=4)
    model = XGBoostModel(XGBoostParams(n_estimators=10)).fit(data.X, data.y)
    artifact = store.put(model.to_bytes())

    async def work(session: AsyncSession) -> int:
        row = await registry.register(
            session,
            name=name,
            kind=model.kind,
            feature_set_version="fs-1",
            label_definition={"kind": "synthetic", "horizon": 5},
            train_window=data.window(),
            data_fingerprint=data.fingerprint(),
            params=model.params.model_dump(),
            validation=validation,
            artifact=artifact,
            code_version="abc123",
            trained_via="test",
            request_id="req-1",
        )
        await session.commit()
        return row.id

    return int(db(url, work))


def _decide(url: str, ref: str, promote: bool, now: datetime, reason: str = "ok") -> Any:
    async def work(session: AsyncSession) -> Any:
        decision = await registry.change_stage(
            session,
            ref=ref,
            promote=promote,
            reason=reason,
            user=await _admin(session),
            policy=GatePolicy(min_oos_sharpe=0.5, min_dsr=0.95, min_paper_days=20),
            request_id="req-2",
            via="test",
            now=now,
        )
        await session.commit()
        return decision

    return db(url, work)


async def _audit(session: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(r.action, r.detail.get("before", ""), r.detail.get("after", "")) for r in rows]


def test_registering_twice_makes_versions_with_the_artifact_in_the_store(
    database_url: str, tmp_path: Path
) -> None:
    store = ArtifactStore((tmp_path / "artifacts").as_uri())
    first = _register(database_url, store, GOOD)
    second = _register(database_url, store, GOOD)

    async def read(session: AsyncSession) -> Any:
        return await registry.find(session, "dir"), await registry.find(session, "dir:1")

    latest, v1 = db(database_url, read)
    assert (v1.id, v1.version, latest.id, latest.version) == (first, 1, second, 2)
    assert latest.stage == ModelStage.CANDIDATE
    # the same data and parameters: the same bytes, one object in the store
    assert latest.artifact_sha256 == v1.artifact_sha256
    stored = list((tmp_path / "artifacts").rglob("*"))
    assert sum(p.is_file() for p in stored) == 1
    loaded = XGBoostModel.from_bytes(fetch(latest.artifact_uri, latest.artifact_sha256))
    assert loaded.model_hash() == latest.artifact_sha256
    assert latest.data_fingerprint == v1.data_fingerprint
    assert db(database_url, _audit) == [("model.register", "", "")] * 2


def test_a_model_climbs_candidate_paper_live_through_the_gate_and_is_demoted(
    database_url: str, tmp_path: Path
) -> None:
    model_id = _register(database_url, ArtifactStore((tmp_path / "a").as_uri()), GOOD)
    ref = f"#{model_id}"
    paper = _decide(database_url, ref, promote=True, now=T0)
    assert paper.accepted
    assert paper.model.stage == ModelStage.PAPER
    # ten days of paper are not the twenty the gate asks for
    early = _decide(database_url, ref, promote=True, now=T0 + timedelta(days=10))
    assert not early.accepted
    assert "paper_days 10.000 < 20" in early.refusal()
    live = _decide(database_url, ref, promote=True, now=T0 + timedelta(days=21))
    assert live.accepted
    assert live.model.stage == ModelStage.LIVE
    back = _decide(database_url, ref, promote=False, now=T0 + timedelta(days=22), reason="drift")
    assert back.model.stage == ModelStage.PAPER

    async def read(session: AsyncSession) -> Any:
        model = await registry.find(session, ref)
        return [
            (c.from_stage, c.to_stage, c.reason) for c in await registry.history(session, model)
        ]

    assert db(database_url, read) == [
        (None, "candidate", "trained"),
        ("candidate", "paper", "ok"),
        ("paper", "live", "ok"),
        ("live", "paper", "drift"),
    ]
    assert db(database_url, _audit) == [
        ("model.register", "", ""),
        ("model.promote", "candidate", "paper"),
        ("model.promote_refused", "paper", "paper"),
        ("model.promote", "paper", "live"),
        ("model.demote", "live", "paper"),
    ]


def test_a_weak_model_is_refused_with_every_failed_check_named_and_the_refusal_audited(
    database_url: str, tmp_path: Path
) -> None:
    model_id = _register(database_url, ArtifactStore((tmp_path / "a").as_uri()), WEAK)
    decision = _decide(database_url, str(model_id), promote=True, now=T0)
    assert not decision.accepted
    assert decision.refusal() == (
        f"dir v1 (#{model_id}) stays candidate: oos_sharpe 0.200 < 0.5; dsr 0.400 < 0.95"
    )
    assert db(database_url, _audit)[-1] == ("model.promote_refused", "candidate", "candidate")


def test_unknown_models_blank_reasons_and_moves_off_the_ladder_are_refused(
    database_url: str, tmp_path: Path
) -> None:
    _register(database_url, ArtifactStore((tmp_path / "a").as_uri()), GOOD)
    with pytest.raises(RegistryError, match="no model 'nope'"):
        _decide(database_url, "nope", promote=True, now=T0)
    with pytest.raises(RegistryError, match="--reason"):
        _decide(database_url, "dir", promote=True, now=T0, reason="  ")
    with pytest.raises(RegistryError, match="demoted below candidate"):
        _decide(database_url, "dir", promote=False, now=T0)
    assert db(database_url, _audit) == [("model.register", "", "")]
