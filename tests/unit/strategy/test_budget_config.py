"""A strategy's capital budget: optional money in its YAML, and a wrong one names file, line, field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quant_domain import ConfigError
from quant_strategy import StrategyConfig, parse_strategy_config

CONFIG = """\
id: demo
class: quant_strategy.builtin.momentum:SmaCrossover
universe: [SP500]
risk:
  max_position_pct: 1.0
"""


def test_a_config_without_a_budget_has_none() -> None:
    assert parse_strategy_config(CONFIG, "demo.yaml").budget is None


@pytest.mark.parametrize(("text", "budget"), [("30000", "30000"), ("12500.50", "12500.50")])
def test_a_budget_is_read_as_exact_money(text: str, budget: str) -> None:
    config = parse_strategy_config(CONFIG + f"budget: {text}\n", "demo.yaml")
    assert config.budget == Decimal(budget)
    assert isinstance(config.budget, Decimal)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "greater than 0"),
        ("-5000", "greater than 0"),
        ("lots", "valid decimal"),
        (".inf", "finite number"),
    ],
)
def test_a_wrong_budget_names_the_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_strategy_config(CONFIG + f"budget: {text}\n", "demo.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("demo.yaml", 6, "budget")
    assert message in err.message


def test_location_says_where_a_field_is_written() -> None:
    config = parse_strategy_config(CONFIG + "budget: 30000\n", "demo.yaml")
    assert config.location("budget") == "demo.yaml:6"
    assert config.location("seed") == "demo.yaml"  # not written: the file alone
    in_code = StrategyConfig.model_validate(config.model_dump(by_alias=True))
    assert in_code.location("budget") == ""  # built in code: written nowhere
