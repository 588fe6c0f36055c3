"""GET /v1/runs/{run_id}/windows: a walk-forward run's windows and overfitting statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from quant_api.deps import RunDep
from quant_api.errors import ApiError, error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.walk_forward import (
    DeflatedSharpe,
    ParameterStability,
    ProbabilityOfOverfitting,
    RunMetrics,
    WalkForwardWindow,
    WalkForwardWindows,
)
from quant_db.schema import Run
from quant_db.schema.runs import RunType

router = APIRouter(prefix="/runs", tags=["runs"])


def _window(stored: dict[str, Any]) -> WalkForwardWindow:
    """One window of `walk_forward_summary()` in the API's names."""
    in_sample = stored["in_sample"]
    out_of_sample = stored["out_of_sample"]
    oos = stored.get("out_of_sample_metrics")
    return WalkForwardWindow(
        index=stored["number"],
        in_sample_start=in_sample[0],
        in_sample_end=in_sample[1],
        out_of_sample_start=out_of_sample[0],
        out_of_sample_end=out_of_sample[1],
        status=stored["status"],
        reason=stored.get("note") or None,
        chosen_params=stored.get("chosen_params"),
        in_sample_score=stored.get("in_sample_score"),
        out_of_sample_score=stored.get("out_of_sample_score"),
        trade_count=None if oos is None else oos.get("num_trades"),
        in_sample_metrics=stored.get("in_sample_metrics"),
        out_of_sample_metrics=oos,
        in_sample_deflated_sharpe=stored.get("in_sample_dsr"),
        plateau=stored.get("plateau"),
        start_equity=stored.get("start_equity"),
        end_equity=stored.get("end_equity"),
        in_sample_scores=stored.get("scores", []),
        in_sample_trade_counts=stored.get("trade_counts", []),
    )


def walk_forward_windows(run: Run) -> WalkForwardWindows:
    """The run's stored summary, or an empty one while it has none (queued, running, failed)."""
    metrics = run.metrics or {}
    summary: dict[str, Any] = metrics.get("walk_forward") or {}
    pbo, dsr = summary.get("pbo"), summary.get("deflated_sharpe")
    return WalkForwardWindows(
        run_id=run.id,
        status=run.status,
        windows=[_window(w) for w in summary.get("windows", [])],
        pbo=None if pbo is None else ProbabilityOfOverfitting.model_validate(pbo),
        deflated_sharpe=None if dsr is None else DeflatedSharpe.model_validate(dsr),
        efficiency=summary.get("efficiency"),
        parameter_stability=[
            ParameterStability.model_validate(s) for s in summary.get("stability", [])
        ],
        # the stitched run's metrics sit beside the summary, at the top of runs.metrics
        out_of_sample_metrics=RunMetrics.model_validate(metrics) if summary else None,
    )


@router.get(
    "/{run_id}/windows",
    summary="A walk-forward run's windows, chosen params, scores and overfitting statistics",
    description=(
        "Each window's in-sample and out-of-sample dates, the parameters chosen in sample, the "
        "in- and out-of-sample scores and metrics, its status (`ok`, or `skipped` with the "
        "reason) and trade count; plus the run's PBO, Deflated Sharpe Ratio, walk-forward "
        "efficiency and parameter stability. A run still queued or running (or one that failed) "
        "answers its status with no windows yet. A run that is not a walk-forward is a 409 "
        "naming `path.run_id`."
    ),
    responses=error_responses(401, 404, 409, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_windows(request: Request, response: Response, run: RunDep) -> WalkForwardWindows:
    if run.type != RunType.WALK_FORWARD:
        raise ApiError(
            409,
            f"run {run.id} is a {run.type.value} run; only walk_forward runs have windows",
            field="path.run_id",
        )
    return walk_forward_windows(run)
