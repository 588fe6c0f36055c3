"""Every /v1 router, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from quant_api.errors import error_responses
from quant_api.routers.v1 import (
    alerts,
    analytics,
    api_keys,
    auth,
    controls,
    fills,
    health,
    metrics,
    models,
    orders,
    parity,
    positions,
    prices,
    reconciliation,
    risk,
    run_exports,
    run_marks,
    runs,
    strategies,
    symbols,
    walk_forward,
)

api_router = APIRouter(prefix="/v1")
api_router.include_router(health.router)  # always 200: it says what is down
# every other route reads PostgreSQL, so answers 503 (with Retry-After) while it is unreachable;
# spelled as JSON outright, since a route answering HTML (the report) still errs in JSON
for module in (
    auth,
    api_keys,
    metrics,
    strategies,
    runs,
    analytics,
    run_marks,
    run_exports,
    parity,
    walk_forward,
    models,
    prices,
    symbols,
    positions,
    orders,
    fills,
    reconciliation,
    alerts,
    controls,
    risk,
):
    api_router.include_router(module.router, responses=error_responses(503, non_json_route=True))
