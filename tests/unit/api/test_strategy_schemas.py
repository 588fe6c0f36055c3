"""The strategy PATCH schema states the same risk bounds the server enforces (RiskCaps)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from quant_api.schemas.v1.strategies import RiskUpdate
from quant_strategy.config import RiskCaps

BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """The numeric bounds of a property, whether it is nullable (anyOf [..., null]) or not."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") != "null":
            return {"type": option.get("type"), **{k: option[k] for k in BOUNDS if k in option}}
    return {}


def test_every_risk_field_has_the_bounds_riskcaps_enforces() -> None:
    served = RiskUpdate.model_json_schema()["properties"]
    enforced = RiskCaps.model_json_schema()["properties"]
    assert set(served) == set(enforced)
    for name, rule in enforced.items():
        assert _bounds(served[name]) == _bounds(rule), name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_position_pct", 0),
        ("max_position_pct", 10.5),
        ("max_gross_exposure", -1),
        ("max_positions", 0),
        ("min_trade_pct", 1.5),
    ],
)
def test_a_value_riskcaps_refuses_the_schema_refuses_too(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        RiskCaps(**{field: value})
    with pytest.raises(ValidationError):
        RiskUpdate(**{field: value})


def test_null_still_means_unchanged_or_no_cap() -> None:
    assert RiskUpdate(max_positions=None, max_position_pct=None).model_dump(exclude_unset=True) == {
        "max_positions": None,
        "max_position_pct": None,
    }
