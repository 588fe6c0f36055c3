"""Strategies: the ABC, typed params, the YAML loader and the built-in strategies."""

from quant_strategy.base import Strategy, StrategyParams
from quant_strategy.config import RiskCaps, SignalThresholds, StrategyConfig
from quant_strategy.loader import (
    apply_overrides,
    build_strategy,
    check_params,
    check_symbols,
    load_strategy_config,
    parse_strategy_config,
    resolve_class,
)
from quant_strategy.sizing import signals_to_orders

__all__ = [
    "RiskCaps",
    "SignalThresholds",
    "Strategy",
    "StrategyConfig",
    "StrategyParams",
    "apply_overrides",
    "build_strategy",
    "check_params",
    "check_symbols",
    "load_strategy_config",
    "parse_strategy_config",
    "resolve_class",
    "signals_to_orders",
]
