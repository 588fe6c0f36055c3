"""/v1/models: the model registry (ADR 0053). Reading is for any signed-in user; moving a model
between stages is for admins, with a reason, through quant_models' gate and audit."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.deps import (
    AdminUser,
    CurrentUser,
    PageParams,
    RequestId,
    ResourcesDep,
    RowId,
    SessionDep,
    equal_to,
)
from quant_api.errors import ApiError, conflict, error_responses, not_found
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import Page
from quant_api.schemas.v1.models import (
    CpcvScores,
    FeatureImportance,
    ModelDetail,
    ModelScores,
    ModelSummary,
    StageChange,
    StageDecisionCreate,
    StageDecisionPublic,
    ValidationFold,
)
from quant_api.settings import ApiSettings
from quant_db.schema import ModelStage, ModelStageChange, RegisteredModel, User
from quant_models import registry
from quant_models.errors import RegistryError
from quant_models.registry import GatePolicy

router = APIRouter(prefix="/models", tags=["models"])

GATE_NOTE = (
    "A promotion passes the gate first: a least walk-forward OOS Sharpe and deflated Sharpe, "
    "and a least time in paper before live (the server's QUANT_MODEL_GATE_* settings; by "
    "default 0.5, 0.95 and 20 days, as `quant models promote` without flags; a request cannot "
    "loosen them). A refusal is 409 naming every failed check, changes no stage, and is "
    "audited (`model.promote_refused`); a model with no stage to move to is 409 too."
)


def gate_policy(settings: ApiSettings) -> GatePolicy:
    """The promotion gate the API applies, from the server's settings."""
    return GatePolicy(
        min_oos_sharpe=settings.model_gate_min_oos_sharpe,
        min_dsr=settings.model_gate_min_dsr,
        min_paper_days=settings.model_gate_min_paper_days,
    )


def _summary_fields(model: RegisteredModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "version": model.version,
        "kind": model.kind,
        "stage": model.stage,
        "stage_since": model.stage_since,
        "feature_set_version": model.feature_set_version,
        "scores": ModelScores.of(model.validation),
        "artifact_sha256": model.artifact_sha256,
        "trained_by_run_id": model.trained_by_run_id,
        "created_at": model.created_at,
    }


def _summary(model: RegisteredModel) -> ModelSummary:
    return ModelSummary(**_summary_fields(model))


def _folds(raw: Any) -> list[ValidationFold]:
    return [ValidationFold.model_validate(fold) for fold in raw or []]


def _change(change: ModelStageChange, names: dict[int, str]) -> StageChange:
    return StageChange(
        from_stage=change.from_stage,
        to_stage=change.to_stage,
        reason=change.reason,
        decided_by=None if change.decided_by is None else names.get(change.decided_by),
        decided_at=change.decided_at,
        gate=change.gate or {},
    )


async def _usernames(session: AsyncSession, changes: list[ModelStageChange]) -> dict[int, str]:
    ids = {c.decided_by for c in changes if c.decided_by is not None}
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {row.id: row.username for row in rows}


def _detail(model: RegisteredModel, history: list[StageChange]) -> ModelDetail:
    validation = model.validation
    cpcv = validation.get("cpcv")
    importances = sorted(
        (validation.get("importances") or {}).items(), key=lambda kv: (-float(kv[1]), kv[0])
    )
    chosen = validation.get("chosen_candidate")
    rows = validation.get("rows")
    return ModelDetail(
        **_summary_fields(model),
        label_definition=model.label_definition,
        train_start=model.train_start,
        train_end=model.train_end,
        data_fingerprint=model.data_fingerprint,
        params=model.params,
        code_version=model.code_version,
        trained_via=model.trained_via,
        thresholds=validation.get("thresholds") or {},
        walk_forward_folds=_folds((validation.get("walk_forward") or {}).get("folds")),
        cpcv=None
        if not cpcv
        else CpcvScores(
            n_groups=cpcv["n_groups"],
            n_test_groups=cpcv["n_test_groups"],
            summary=cpcv.get("summary") or {},
            path_sharpes=cpcv.get("path_sharpes") or [],
            folds=_folds(cpcv.get("folds")),
        ),
        candidate_sharpes=validation.get("candidate_sharpes") or [],
        chosen_candidate=chosen if isinstance(chosen, int) else None,
        rows=rows if isinstance(rows, int) else None,
        importances=[FeatureImportance(feature=k, importance=float(v)) for k, v in importances],
        stage_history=history,
    )


async def _history(session: AsyncSession, model: RegisteredModel) -> list[StageChange]:
    changes = await registry.history(session, model)
    names = await _usernames(session, changes)
    return [_change(c, names) for c in changes]


async def _model_or_404(session: AsyncSession, model_id: int) -> RegisteredModel:
    model = await session.get(RegisteredModel, model_id)
    if model is None:
        raise not_found("model", model_id)
    return model


@router.get(
    "",
    summary="Registered models, newest first (filter by stage, name, or the train run)",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_models(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    stage: Annotated[ModelStage | None, Query(description="only models in this stage")] = None,
    name: Annotated[
        str | None, Query(max_length=100, description="only the versions of this model")
    ] = None,
    run_id: Annotated[
        uuid.UUID | None, Query(description="only the model this train run registered")
    ] = None,
) -> Page[ModelSummary]:
    return await pages.fetch(
        session,
        RegisteredModel,
        equal_to(RegisteredModel, stage=stage, name=name, trained_by_run_id=run_id),
        [RegisteredModel.created_at.desc(), RegisteredModel.id.desc()],
        _summary,
    )


@router.get(
    "/{model_id}",
    summary="A model: lineage, validation folds, importances, stage history",
    description=(
        "Lineage: feature set version, label definition, training window, data fingerprint, "
        "parameters, code version, artifact checksum and the run that trained it (null when "
        "trained from the command line). Validation: the walk-forward folds, CPCV paths, DSR "
        "and PBO. The stage history lists every decision with its reason and who made it."
    ),
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_model(
    request: Request, response: Response, model_id: RowId, _user: CurrentUser, session: SessionDep
) -> ModelDetail:
    model = await _model_or_404(session, model_id)
    return _detail(model, await _history(session, model))


async def _decide(
    session: AsyncSession,
    model_id: RowId,
    body: StageDecisionCreate,
    admin: User,
    request_id: str,
    policy: GatePolicy,
    *,
    promote: bool,
) -> StageDecisionPublic:
    await _model_or_404(session, model_id)
    try:
        decision = await registry.change_stage(
            session,
            ref=str(model_id),
            promote=promote,
            reason=body.reason,
            user=admin,
            policy=policy,
            request_id=request_id,
            via="api",
        )
    except RegistryError as exc:
        raise conflict(str(exc)) from None
    await session.commit()  # a refusal is audited too
    if not decision.accepted:
        raise ApiError(409, f"promotion refused by the gate: {decision.refusal()}")
    change = decision.change
    assert change is not None
    model = decision.model
    return StageDecisionPublic(
        id=model.id,
        name=model.name,
        version=model.version,
        from_stage=str(change.from_stage),
        stage=model.stage,
        change=_change(change, {admin.id: admin.username}),
    )


@router.post(
    "/{model_id}/promote",
    summary="Promote a model one stage: candidate -> paper -> live (admin; reason; audited)",
    description=GATE_NOTE,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def promote_model(
    model_id: RowId,
    body: StageDecisionCreate,
    admin: AdminUser,
    session: SessionDep,
    request_id: RequestId,
    resources: ResourcesDep,
) -> StageDecisionPublic:
    policy = gate_policy(resources.settings)
    return await _decide(session, model_id, body, admin, request_id, policy, promote=True)


@router.post(
    "/{model_id}/demote",
    summary="Demote a model one stage: live -> paper -> candidate (admin; reason; audited)",
    description="No gate: a demotion needs only its reason. A candidate cannot go lower (409).",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def demote_model(
    model_id: RowId,
    body: StageDecisionCreate,
    admin: AdminUser,
    session: SessionDep,
    request_id: RequestId,
    resources: ResourcesDep,
) -> StageDecisionPublic:
    policy = gate_policy(resources.settings)
    return await _decide(session, model_id, body, admin, request_id, policy, promote=False)
