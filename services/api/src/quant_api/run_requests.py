"""Turn a POST /v1/runs body into the exact configs a worker will run, or a 422 naming the field.

Everything is checked here, before anything is written: the strategy exists, the overridden
config is valid, the class accepts the params, the symbols have bars where the worker will look
for them, the dates make sense and have data there, the backtest settings are valid and, for a
walk-forward, the grid exists and every combination is accepted by the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from quant_api.errors import ApiError, conflict, in_request_part, invalid, invalid_from
from quant_api.schemas.v1.runs import RunCreate, RunKind
from quant_api.strategy_catalog import UNKNOWN_STRATEGY, merged_config, stored_form
from quant_domain import ConfigError, DataNotFoundError, PositionSizing, QuantError
from quant_engine.config import BacktestConfig, EngineChoice
from quant_engine.engine_choice import compiled_blocker
from quant_engine.walk_forward_config import WalkForwardConfig
from quant_marketdata import open_source
from quant_strategy import StrategyConfig, build_strategy, resolve_class
from quant_strategy.coverage import DataSpan, check_dates


@dataclass(frozen=True, slots=True)
class RunPlan:
    strategy_id: str
    run_type: str
    config: dict[str, Any]
    backtest_config: dict[str, Any]


def _strategy_config(body: RunCreate, stored: dict[str, Any]) -> StrategyConfig:
    try:
        base = StrategyConfig.model_validate(stored)
    except ValidationError as exc:
        raise conflict(
            f"strategy {body.strategy_id!r} has an invalid stored config "
            f"({exc.errors()[0]['msg']}); fix its YAML or PATCH it"
        ) from None
    try:
        return merged_config(
            base.model_dump(by_alias=True), params=body.params, universe=body.universe
        )
    except (ValidationError, ConfigError) as exc:
        raise invalid_from(exc, renames={"universe": body.universe_field}) from None


def _data_spans(
    body: RunCreate, config: StrategyConfig, ingested: Mapping[str, DataSpan]
) -> dict[str, DataSpan]:
    """Where the worker will read each symbol's bars, checked, and the dates they cover there.

    The worker reads the database when every symbol (and the benchmark) was ingested, else the
    strategy's own data source (samples by default): each symbol must be where it will look.
    """
    if config.reads_database(ingested):
        return {symbol: ingested[symbol] for symbol in config.universe}
    spec = config.file_source
    try:
        source = open_source(spec)
        known = set(source.symbols())
    except (ConfigError, DataNotFoundError):
        known = set()
    missing = [symbol for symbol in config.needed_symbols if symbol not in known]
    if missing:
        whole = "every symbol and the benchmark" if config.benchmark else "every symbol"
        raise invalid(
            body.universe_field,
            f"no bars for {', '.join(missing)}: the worker reads the database only when {whole} "
            f"was ingested (`quant data ingest`), else the strategy's data source {spec!r}, "
            "which does not have it",
        )
    spans: dict[str, DataSpan] = {}
    for symbol in config.universe:
        try:
            bars = source.get_bars(symbol, None, None, config.parsed_timeframe)
        except QuantError:  # the run reports it; the dates cannot be judged here
            continue
        if not bars.empty:
            spans[symbol] = DataSpan(bars.index[0].to_pydatetime(), bars.index[-1].to_pydatetime())
    return spans


def _dates(body: RunCreate, config: StrategyConfig, today: date) -> tuple[date | None, date | None]:
    start = body.start or config.start
    end = body.end or config.end
    if start is not None and end is not None and start > end:
        field = "end" if body.end is not None else "start"
        raise invalid(field, f"start ({start}) is after end ({end})")
    if start is not None and start > today:
        raise invalid("start", f"start ({start}) is in the future: there is no data yet")
    return start, end


def _dates_have_data(
    body: RunCreate,
    config: StrategyConfig,
    spans: Mapping[str, DataSpan],
    dates: tuple[date | None, date | None],
) -> None:
    """A start or end outside the data is refused now, with the range that exists."""
    try:
        check_dates(config.universe, spans, *dates)
    except ConfigError as exc:
        field = exc.field or "start"
        sent = body.start if field == "start" else body.end
        origin = "" if sent is not None else f" (the strategy's {field}; send {field} to change it)"
        raise invalid(field, exc.message + origin) from None


def _sizing(body: RunCreate, config: StrategyConfig) -> PositionSizing:
    """The strategy's sizing block (or the default) with the body's sizing fields laid over it."""
    base = config.sizing or PositionSizing()
    override = body.backtest.sizing
    if override is None:
        return base
    try:
        return PositionSizing.model_validate(
            {**base.model_dump(), **override.model_dump(exclude_none=True)}
        )
    except ValidationError as exc:
        raise invalid_from(exc, "backtest.sizing") from None


def _backtest_config(
    body: RunCreate, config: StrategyConfig, start: date | None, end: date | None
) -> BacktestConfig:
    settings = body.backtest
    try:
        return BacktestConfig(
            initial_capital=settings.initial_capital,
            commission_per_trade=settings.commission_per_trade,
            commission_bps=settings.commission_bps,
            slippage_bps=settings.slippage_bps,
            fill_timing=settings.fill_timing,
            commission_rounding=settings.commission_rounding,
            engine=settings.engine,
            start=start,
            end=end,
            sizing=_sizing(body, config),
            periods_per_year=settings.periods_per_year,
            risk_free_rate=settings.risk_free_rate,
            seed=config.seed if settings.seed is None else settings.seed,
        )
    except ValidationError as exc:
        renames = {name: settings.written(name) for name in BacktestConfig.model_fields}
        raise invalid_from(exc, "backtest", renames) from None


def _walk_forward(body: RunCreate, config: StrategyConfig) -> WalkForwardConfig:
    fields: dict[str, Any] = dict(config.walk_forward or {})
    if body.walk_forward is not None:
        fields.update(body.walk_forward.model_dump(exclude_none=True))
    if not fields.get("parameter_grid"):
        raise invalid(
            "walk_forward.parameter_grid",
            "a walk-forward run needs a parameter grid: send walk_forward.parameter_grid or add "
            "one to the strategy's walk_forward block",
        )
    try:
        wf = WalkForwardConfig.model_validate(fields)
    except ValidationError as exc:
        raise invalid_from(exc, "walk_forward") from None
    cls = resolve_class(config)
    unknown = sorted(set(wf.parameter_grid) - set(cls.params_model.model_fields))
    if unknown:
        raise invalid(
            "walk_forward.parameter_grid",
            f"unknown parameter(s) {', '.join(unknown)}; {cls.__name__} takes "
            f"{', '.join(cls.params_model.model_fields)}",
        )
    for combination in wf.combinations(config.params):
        try:
            cls.parse_params(config.updated(params=combination))
        except ConfigError as exc:
            shown = ", ".join(f"{k}={combination[k]}" for k in wf.parameter_grid)
            raise invalid(
                "walk_forward.parameter_grid", f"the combination {shown} is refused: {exc}"
            ) from None
    return wf


def plan_run(
    body: RunCreate,
    stored: dict[str, Any] | None,
    today: date,
    ingested: Mapping[str, DataSpan],
) -> RunPlan:
    """Validate `body` against the stored config of its strategy (None: no such strategy);
    `ingested` maps each symbol with bars in the database to the dates they cover.

    CPU only (a walk-forward grid may have many combinations), so callers run it in a thread.
    Every field a 422 names is in the body (`body.start`, `body.params.fast`, ...).
    """
    try:
        return _plan(body, stored, today, ingested)
    except ApiError as exc:
        raise in_request_part(exc, "body") from None


def _plan(
    body: RunCreate,
    stored: dict[str, Any] | None,
    today: date,
    ingested: Mapping[str, DataSpan],
) -> RunPlan:
    if stored is None:
        raise invalid("strategy_id", UNKNOWN_STRATEGY.format(body.strategy_id))
    if body.type is RunKind.BACKTEST and body.walk_forward is not None:
        raise invalid("walk_forward", "walk_forward settings need type walk_forward")
    if body.type is RunKind.WALK_FORWARD and body.backtest.risk_policy is not None:
        raise invalid(
            "backtest.risk_policy",
            "a risk policy runs with a backtest only: queue a backtest of the chosen params",
        )
    config = _strategy_config(body, stored)
    spans = _data_spans(body, config, ingested)
    start, end = _dates(body, config, today)
    _dates_have_data(body, config, spans, (start, end))
    config = config.updated(start=start, end=end)
    backtest = _backtest_config(body, config, start, end)
    if backtest.engine is EngineChoice.COMPILED:
        blocker = compiled_blocker(build_strategy(config), backtest)
        if blocker is not None:
            raise invalid("backtest.engine", f"compiled is not possible for {config.id}: {blocker}")
    stored = stored_form(config)
    if body.type is RunKind.WALK_FORWARD:
        stored["walk_forward"] = _walk_forward(body, config).model_dump(mode="json")
    return RunPlan(
        strategy_id=config.id,
        run_type=body.type.value,
        config=stored,
        backtest_config=backtest.model_dump(mode="json"),
    )
