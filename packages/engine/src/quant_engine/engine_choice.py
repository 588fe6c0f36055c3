"""Which path runs a backtest: the event loop or the compiled run (the `engine` setting)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from quant_domain.instruments import Instrument
from quant_engine.config import BacktestConfig, EngineChoice
from quant_strategy import Strategy

EnginePath = Literal["event", "compiled"]


class CompiledUnavailable(ValueError):
    """`engine: compiled` was asked for a strategy or config the compiled kernel cannot take."""


def compiled_blocker(
    strategy: Strategy[Any],
    config: BacktestConfig,
    instruments: Mapping[str, Instrument] | None = None,
) -> str | None:
    """Why the compiled run cannot give this run's result, or None when it can."""
    # imported here: the vectorised module loads numba, which `--help` and the API never need
    from quant_engine.vectorised import unsupported_reason  # noqa: PLC0415

    reason = unsupported_reason(strategy, config)
    if reason is not None:
        return reason
    if strategy.config.risk.allow_short and instruments:
        # the risk gate refuses shorts of these; the kernel would take them
        unshortable = sorted(s for s, i in instruments.items() if not i.shortable)
        if unshortable:
            return f"{', '.join(unshortable)} may not be sold short (only the event loop knows)"
    return None


def choose_path(
    strategy: Strategy[Any],
    config: BacktestConfig,
    instruments: Mapping[str, Instrument] | None = None,
) -> EnginePath:
    """The path `config.engine` asks for: auto takes the compiled run wherever it can."""
    if config.engine is EngineChoice.EVENT:
        return "event"
    blocker = compiled_blocker(strategy, config, instruments)
    if blocker is None:
        return "compiled"
    if config.engine is EngineChoice.COMPILED:
        raise CompiledUnavailable(f"engine: compiled is not possible here: {blocker}")
    return "event"
