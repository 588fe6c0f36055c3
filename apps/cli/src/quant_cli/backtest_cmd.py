"""`quant backtest`: run one strategy config and write report.html and result.json."""

# ruff: noqa: PLC0415 - strategies and reports load when the command runs, not for --help
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from quant_cli.data_options import DataOption, EndOption, StartOption
from quant_cli.errors import fail, user_errors, validation_message
from quant_cli.formatting import metrics_table
from quant_cli.model_loading import loaded_models
from quant_cli.options import (
    DEFAULT_CAPITAL,
    DEFAULT_COMMISSION,
    DEFAULT_COMMISSION_BPS,
    DEFAULT_SLIPPAGE_BPS,
    FLAG_NAMES,
    CommissionBpsOption,
    CommissionPerTradeOption,
    CommissionRoundingOption,
    EngineOption,
    FillTimingOption,
    InitialCapitalOption,
    SlippageOption,
    flag,
    flags,
    make_backtest_config,
)
from quant_cli.progress import progress_bar
from quant_cli.sources import open_data
from quant_domain import PositionSizing, SizingMode
from quant_engine import BacktestConfig, FillTiming
from quant_engine.config import CommissionRounding, EngineChoice
from quant_engine.engine_choice import CompiledUnavailable

if TYPE_CHECKING:
    from quant_backtest import BacktestResult
    from quant_engine import OrderRecord
    from quant_engine.risk_policy import RiskPolicy
    from quant_strategy import StrategyConfig


def build_sizing(
    config: StrategyConfig,
    mode: SizingMode | None,
    fraction: float | None,
    quantity: float | None,
    fractional: bool | None,
) -> PositionSizing:
    """The config's sizing (or the default) with any command-line flags laid over it."""
    base = config.sizing or PositionSizing()
    changes: dict[str, object] = {}
    if mode is not None:
        changes["mode"] = mode
    if fraction is not None:
        changes["fraction"] = fraction
    if quantity is not None:
        changes["quantity"] = Decimal(str(quantity))
    if fractional is not None:
        changes["fractional"] = fractional
    try:
        return PositionSizing.model_validate({**base.model_dump(), **changes})
    except ValidationError as exc:
        typed = flags()
        named = {name: typed[f"sizing.{name}"] for name in ("mode", "fraction", "quantity")}
        named["fractional"] = typed["sizing.fractional"]
        whole = "/".join(named[name] for name in ("mode", "quantity", "fractional"))
        raise fail(validation_message(exc, named, whole)) from None


def run_with_progress(
    config: StrategyConfig,
    source_spec: str,
    bt: BacktestConfig,
    console: Console,
    risk_policy: RiskPolicy | None = None,
) -> BacktestResult:
    from quant_backtest import run
    from quant_backtest.data_range import dates_explained

    source = open_data(source_spec)
    with (
        dates_explained(config, source, bt, flag),
        progress_bar(console, f"backtest {config.id}", "bars") as report,
    ):
        return run(config, source, bt, progress=report, risk_policy=risk_policy)


@user_errors
def backtest(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="strategy YAML file")],
    data: DataOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default reports/<strategy id>)")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a param: NAME=VALUE")
    ] = None,
    initial_capital: InitialCapitalOption = DEFAULT_CAPITAL,
    commission_per_trade: CommissionPerTradeOption = DEFAULT_COMMISSION,
    commission_bps: CommissionBpsOption = DEFAULT_COMMISSION_BPS,
    commission_rounding: CommissionRoundingOption = CommissionRounding.CENT,
    slippage_bps: SlippageOption = DEFAULT_SLIPPAGE_BPS,
    fill_timing: FillTimingOption = FillTiming.CLOSE,
    sizing_mode: Annotated[
        SizingMode | None,
        typer.Option(
            *FLAG_NAMES["sizing.mode"], help="fraction of equity or fixed quantity (--sizing: old)"
        ),
    ] = None,
    sizing_fraction: Annotated[
        float | None,
        typer.Option(
            *FLAG_NAMES["sizing.fraction"],
            help="share of equity per full-strength signal (--fraction: old)",
        ),
    ] = None,
    sizing_quantity: Annotated[
        float | None,
        typer.Option(
            *FLAG_NAMES["sizing.quantity"],
            help="units per full-strength signal, fixed sizing (--quantity: old)",
        ),
    ] = None,
    sizing_fractional: Annotated[
        bool | None,
        typer.Option(
            "--sizing-fractional/--sizing-whole",
            "--fractional/--whole",
            help="fractional or whole units (--fractional/--whole: old)",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the config's)")] = None,
    periods_per_year: Annotated[
        float | None, typer.Option(help="annualisation factor (inferred by default)")
    ] = None,
    risk_free_rate: Annotated[float, typer.Option(help="annual risk-free rate for Sharpe")] = 0.0,
    risk_policy: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="trade under this risk policy's caps and breakers (configs/risk/*.yaml) and "
            "report the bars where it would have paused or halted the strategy",
        ),
    ] = None,
    engine: EngineOption = EngineChoice.AUTO,
) -> None:
    """Backtest CONFIG; print a metrics table and write report.html and result.json."""
    from quant_backtest.model_link import model_metadata
    from quant_backtest.report_html import model_line, risk_line, write_html_report
    from quant_backtest.report_json import write_json_report
    from quant_engine.risk_policy import load_risk_policy
    from quant_strategy import apply_overrides, load_strategy_config

    console = Console()
    config = load_strategy_config(config_path)
    policy = None if risk_policy is None else load_risk_policy(risk_policy)
    if set_:
        config = apply_overrides(config, set_)
    bt = make_backtest_config(
        capital=initial_capital,
        commission=commission_per_trade,
        commission_bps=commission_bps,
        commission_rounding=commission_rounding,
        slippage_bps=slippage_bps,
        fill_timing=fill_timing,
        start=start,
        end=end,
        sizing=build_sizing(
            config, sizing_mode, sizing_fraction, sizing_quantity, sizing_fractional
        ),
        seed=seed if seed is not None else config.seed,
        periods_per_year=periods_per_year,
        risk_free_rate=risk_free_rate,
        engine=engine,
    )
    with loaded_models(config) as models:
        check_engine(config, bt)
        try:
            result = run_with_progress(
                config, data or config.data or "samples", bt, console, policy
            )
        except CompiledUnavailable as exc:
            raise fail(f"--engine: {exc}") from None
    if models:
        result.metadata = replace(result.metadata, model=model_metadata(models, result))
    folder = out or Path("reports") / config.id
    html = write_html_report(result, folder / "report.html")
    js = write_json_report(result, folder / "result.json")
    console.print(
        f"[bold]{config.id}[/bold] on {result.metadata.data_source} "
        f"{result.start.date()} .. {result.end.date()}: {len(result.fills)} fills, "
        f"{result.metrics.num_trades} closed trades"
        + (
            f", {result.metrics.open_trades} open at the end (marked at the last close)"
            if result.metrics.open_trades
            else ""
        )
        + f"; {ENGINE_LABEL.get(result.metadata.engine, result.metadata.engine)}"
    )
    console.print(metrics_table("", {config.id: result.metrics}))
    refused = gate_refusals(result.orders)
    if refused:
        console.print(f"[yellow]the risk gate refused {refused}[/yellow] (orders in result.json)")
    if result.metadata.risk is not None:
        console.print(f"risk policy: {risk_line(result.metadata.risk)}")
    if result.metadata.model is not None:
        console.print(f"model: {model_line(result.metadata.model)}")
    console.print(f"report: {html}\nresult: {js}")


ENGINE_LABEL = {"compiled": "compiled kernel", "event": "event loop"}
"""How the summary line names the path a backtest took (result.json's metadata.engine)."""


def check_engine(config: StrategyConfig, bt: BacktestConfig) -> None:
    """`--engine compiled` for a strategy or config the kernel cannot take: exit 2 saying why."""
    if bt.engine is not EngineChoice.COMPILED:
        return
    from quant_engine.engine_choice import compiled_blocker
    from quant_strategy import build_strategy

    blocker = compiled_blocker(build_strategy(config), bt)
    if blocker is not None:
        raise fail(f"--engine: compiled is not possible for {config.id}: {blocker}")


def gate_refusals(orders: list[OrderRecord]) -> str:
    """ "3 orders: SHORT_NOT_ALLOWED 2, POSITION_PCT_CAP 1", or "" when the gate refused none."""
    from quant_engine.risk_gate import Reason

    rules = {reason.name for reason in Reason if reason is not Reason.OK}
    codes = Counter(r.code for r in orders if r.code in rules)
    if not codes:
        return ""
    total = sum(codes.values())
    listed = ", ".join(f"{code} {count}" for code, count in codes.most_common())
    return f"{total} order{'s' if total != 1 else ''}: {listed}"
