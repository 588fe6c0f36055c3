"""The model registry: record trained models, look them up, move them between stages.

Stages go candidate -> paper -> live one step at a time; a promotion passes a gate (minimum
out-of-sample Sharpe and deflated Sharpe, and a minimum time in paper before live), a demotion
needs only a reason. Every decision, refusals included, is a stage-change row (for accepted
ones) and an audit entry, committed by the caller with the change it describes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.audit import record
from quant_db.schema import ModelStage, ModelStageChange, RegisteredModel, User
from quant_models.artifacts import StoredArtifact
from quant_models.errors import RegistryError

LADDER = (ModelStage.CANDIDATE, ModelStage.PAPER, ModelStage.LIVE)


class GatePolicy(BaseModel):
    """What a model must show before it moves up a stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_oos_sharpe: float = Field(default=0.5, description="annualised walk-forward OOS Sharpe")
    min_dsr: float = Field(default=0.95, ge=0, le=1, description="deflated Sharpe ratio")
    min_paper_days: float = Field(default=20.0, ge=0, description="days in paper before live")


@dataclass(frozen=True, slots=True)
class GateCheck:
    name: str
    value: float | None
    threshold: float
    passed: bool

    def line(self) -> str:
        shown = "not measured" if self.value is None else f"{self.value:.3f}"
        return f"{self.name} {shown} {'>=' if self.passed else '<'} {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Decision:
    """What a stage request came to: accepted (with its change row) or refused by the gate."""

    model: RegisteredModel
    accepted: bool
    checks: tuple[GateCheck, ...]
    change: ModelStageChange | None

    def refusal(self) -> str:
        failed = [c.line() for c in self.checks if not c.passed]
        return f"{describe(self.model)} stays {self.model.stage}: " + "; ".join(failed)


def describe(model: RegisteredModel) -> str:
    return f"{model.name} v{model.version} (#{model.id})"


async def register(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    feature_set_version: str,
    label_definition: dict[str, Any],
    train_window: tuple[datetime, datetime],
    data_fingerprint: str,
    params: dict[str, Any],
    validation: dict[str, Any],
    artifact: StoredArtifact,
    code_version: str,
    trained_via: str,
    request_id: str,
    trained_by_run_id: uuid.UUID | None = None,
) -> RegisteredModel:
    """Record a trained model as the next version of `name`, a candidate; audited."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"models:{name}"))))
    latest = await session.scalar(
        select(func.max(RegisteredModel.version)).where(RegisteredModel.name == name)
    )
    model = RegisteredModel(
        name=name,
        version=(latest or 0) + 1,
        kind=kind,
        stage=ModelStage.CANDIDATE,
        feature_set_version=feature_set_version,
        label_definition=label_definition,
        train_start=train_window[0],
        train_end=train_window[1],
        data_fingerprint=data_fingerprint,
        params=params,
        validation=validation,
        artifact_sha256=artifact.sha256,
        artifact_uri=artifact.uri,
        code_version=code_version[:64],
        trained_by_run_id=trained_by_run_id,
        trained_via=trained_via[:128],
    )
    session.add(model)
    await session.flush()
    session.add(
        ModelStageChange(
            model_id=model.id, from_stage=None, to_stage=ModelStage.CANDIDATE, reason="trained"
        )
    )
    record(
        session,
        user=None,
        action="model.register",
        target_type="model",
        target_id=str(model.id),
        detail={
            "name": name,
            "version": model.version,
            "artifact_sha256": artifact.sha256,
            "data_fingerprint": data_fingerprint,
            "via": trained_via,
        },
        request_id=request_id,
    )
    await session.flush()
    return model


async def list_models(session: AsyncSession, name: str | None = None) -> list[RegisteredModel]:
    query = select(RegisteredModel).order_by(RegisteredModel.name, RegisteredModel.version)
    if name is not None:
        query = query.where(RegisteredModel.name == name)
    return list(await session.scalars(query))


async def find(session: AsyncSession, ref: str, *, for_update: bool = False) -> RegisteredModel:
    """A model by `#id` or `id`, `name:version`, or `name` (its latest version).

    Raises:
        RegistryError: no model answers to `ref`.
    """
    text = ref.strip().removeprefix("#")
    query = select(RegisteredModel)
    if text.isdigit():
        query = query.where(RegisteredModel.id == int(text))
    elif ":" in text:
        name, _, version = text.rpartition(":")
        if not version.isdigit():
            raise RegistryError(f"{ref!r}: the version after ':' must be a number")
        query = query.where(RegisteredModel.name == name, RegisteredModel.version == int(version))
    else:
        query = query.where(RegisteredModel.name == text)
    query = query.order_by(RegisteredModel.version.desc()).limit(1)
    if for_update:
        query = query.with_for_update()
    model = await session.scalar(query)
    if model is None:
        raise RegistryError(f"no model {ref!r} in the registry (see `quant models list`)")
    return model


async def history(session: AsyncSession, model: RegisteredModel) -> list[ModelStageChange]:
    query = (
        select(ModelStageChange)
        .where(ModelStageChange.model_id == model.id)
        .order_by(ModelStageChange.id)
    )
    return list(await session.scalars(query))


def gate_checks(
    model: RegisteredModel, target: ModelStage, policy: GatePolicy, now: datetime
) -> tuple[GateCheck, ...]:
    """The checks a move up to `target` must pass, with the model's figures."""
    validation = model.validation
    checks = [
        _at_least("oos_sharpe", validation.get("oos_sharpe"), policy.min_oos_sharpe),
        _at_least("dsr", validation.get("dsr"), policy.min_dsr),
    ]
    if target is ModelStage.LIVE:
        days = (now - model.stage_since).total_seconds() / 86_400
        checks.append(_at_least("paper_days", days, policy.min_paper_days))
    return tuple(checks)


def _at_least(name: str, value: Any, threshold: float) -> GateCheck:
    number = float(value) if isinstance(value, int | float) else None
    return GateCheck(name, number, threshold, number is not None and number >= threshold)


def _next(stage: ModelStage, step: int) -> ModelStage:
    if stage not in LADDER:
        raise RegistryError(f"a {stage.value} model cannot change stage")
    position = LADDER.index(stage) + step
    if not 0 <= position < len(LADDER):
        word = "promoted past live" if step > 0 else "demoted below candidate"
        raise RegistryError(f"a {stage.value} model cannot be {word}")
    return LADDER[position]


async def change_stage(
    session: AsyncSession,
    *,
    ref: str,
    promote: bool,
    reason: str,
    user: User,
    policy: GatePolicy,
    request_id: str,
    via: str,
    now: datetime | None = None,
) -> Decision:
    """Move a model one stage up (through the gate) or down, as `user`, saying why.

    A refused promotion changes no stage but is audited (`model.promote_refused`). The model
    row is locked until the caller commits, so two decisions cannot interleave.

    Raises:
        RegistryError: a blank reason, an unknown model, or no stage to move to.
    """
    why = reason.strip()
    if not why:
        raise RegistryError("--reason: say why (it is recorded with the decision)")
    model = await find(session, ref, for_update=True)
    before = ModelStage(model.stage)
    target = _next(before, 1 if promote else -1)
    moment = now or datetime.now(UTC)
    checks = gate_checks(model, target, policy, moment) if promote else ()
    accepted = all(c.passed for c in checks)
    gate = {
        "policy": policy.model_dump(),
        "checks": [
            {"name": c.name, "value": c.value, "threshold": c.threshold, "passed": c.passed}
            for c in checks
        ],
    }
    action = "model.promote" if promote else "model.demote"
    change = None
    if accepted:
        model.stage = target
        model.stage_since = moment
        change = ModelStageChange(
            model_id=model.id,
            from_stage=before.value,
            to_stage=target.value,
            reason=why,
            decided_by=user.id,
            decided_at=moment,
            gate=gate,
        )
        session.add(change)
    record(
        session,
        user=user,
        action=action if accepted else "model.promote_refused",
        target_type="model",
        target_id=str(model.id),
        detail={
            "name": model.name,
            "version": model.version,
            "before": before.value,
            "after": target.value if accepted else before.value,
            "requested": target.value,
            "reason": why,
            "gate": gate,
            "via": via,
        },
        request_id=request_id,
    )
    await session.flush()
    return Decision(model=model, accepted=accepted, checks=checks, change=change)
