"""The dashboard's copy of the OpenAPI document is the API's current one (its types are generated from it)."""

from __future__ import annotations

from pathlib import Path

from quant_api.openapi_export import render

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "apps" / "dashboard" / "lib" / "api" / "openapi.json"


def test_dashboard_openapi_copy_matches_the_api_document() -> None:
    assert COPY.read_text(encoding="utf-8") == render(), (
        f"{COPY.relative_to(ROOT)} is stale against the API: run `make dashboard-api` and commit "
        "openapi.json and schema.d.ts"
    )
