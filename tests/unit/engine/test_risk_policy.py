"""The risk policy YAML: defaults inside the seed's ranges, and one error naming file, line, field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_engine.risk_policy import RiskPolicy, load_risk_policy, parse_risk_policy
from quant_strategy.config import RiskCaps

DEFAULT = Path(__file__).parents[3] / "configs" / "risk" / "default.yaml"


def test_default_policy_file_loads_with_limits_inside_the_seed_ranges() -> None:
    policy = load_risk_policy(DEFAULT)
    account = policy.account
    assert 0.005 <= account.max_risk_per_trade <= 0.02
    assert 0.5 <= account.max_capital_deployed <= 0.8
    assert 5 <= account.max_positions <= 15
    assert 0.01 <= account.daily_loss_limit <= 0.03
    assert 0.05 <= account.max_drawdown <= 0.12
    assert "momentum_v1" in policy.strategies


def test_policy_value_out_of_range_names_file_line_and_field() -> None:
    text = "account:\n  max_positions: 10\n  daily_loss_limit: 0.2\n"
    with pytest.raises(ConfigError) as caught:
        parse_risk_policy(text, "risk.yaml")
    error = caught.value
    assert (error.file, error.line, error.field) == ("risk.yaml", 3, "account.daily_loss_limit")
    assert str(error).startswith("risk.yaml:3: account.daily_loss_limit: ")


def test_policy_unknown_strategy_field_names_its_line() -> None:
    text = "strategies:\n  momentum_v1:\n    budget: 1000\n    max_leverage: 2\n"
    with pytest.raises(ConfigError) as caught:
        parse_risk_policy(text, "p.yaml")
    assert (caught.value.line, caught.value.field) == (4, "strategies.momentum_v1.max_leverage")


def test_policy_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_risk_policy("account:\n  max_positions: [1,\n", "bad.yaml")
    assert caught.value.file == "bad.yaml"
    assert caught.value.line is not None


def test_policy_unknown_calendar_is_refused_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_risk_policy("account:\n  calendar: NOPE\n", "cal.yaml")
    assert (caught.value.line, caught.value.field) == (2, "account.calendar")


def test_policy_tightens_strategy_caps_and_budget_never_loosens_them() -> None:
    policy = RiskPolicy.model_validate(
        {"strategies": {"a": {"budget": "5000", "max_positions": 3, "max_position_pct": 0.1}}}
    )
    caps = policy.caps_for("a", RiskCaps(max_position_pct=0.5, max_gross_exposure=1.0))
    assert (caps.max_position_pct, caps.max_gross_exposure, caps.max_positions) == (0.1, 0.8, 3)
    other = policy.caps_for("b", RiskCaps(max_position_pct=0.05, max_positions=20))
    assert (other.max_position_pct, other.max_positions) == (0.05, 10)
    assert policy.budget_for("a", Decimal(8000)) == Decimal(5000)
    assert policy.budget_for("a", Decimal(2000)) == Decimal(2000)
    assert policy.budget_for("b", None) is None


def test_missing_policy_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_risk_policy("/nonexistent/risk.yaml")
