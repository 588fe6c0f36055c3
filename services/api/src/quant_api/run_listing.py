"""The runs list's query: what each row says about its run, its filters and its sort orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from quant_api.schemas.v1.runs import RunSort, SortOrder
from quant_db.schema import EquityPoint, Run
from quant_db.schema.runs import RunStatus, RunType

_LIKE_ESCAPE = "\\"


def _text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON value as text; an empty string counts as not recorded."""
    return func.nullif(value.as_string(), "")


def _covered(edge: Any) -> ColumnElement[Any]:
    # min/max over the (run_id, ts) primary key: one index probe per listed row, after the
    # limit, so the cost follows the page size, not the number of runs or points
    return select(edge(EquityPoint.ts)).where(EquityPoint.run_id == Run.id).scalar_subquery()


def summary_columns() -> dict[str, ColumnElement[Any]]:
    """RunSummary's fields that are not columns of `runs`, as SQL on the run's own row.

    Only these small pieces of the configs travel, never the configs or the metrics blob; the
    schema's validators turn an odd stored value into null instead of failing the listing.
    """
    config, backtest = Run.config, Run.backtest_config
    return {
        "params": config["params"],
        # a backtest's config may carry its YAML's walk_forward block: only a walk-forward used it
        "parameter_grid": case(
            (Run.type == RunType.WALK_FORWARD, config["walk_forward"]["parameter_grid"])
        ),
        "symbols": config["universe"],
        # the backtest's dates are the ones it runs with; older rows only had the config's
        "requested_start": func.coalesce(_text(backtest["start"]), _text(config["start"])),
        "requested_end": func.coalesce(_text(backtest["end"]), _text(config["end"])),
        "covered_start": _covered(func.min),
        "covered_end": _covered(func.max),
        "capital": _text(backtest["initial_capital"]),
        "data_source": _text(Run.repro["data_source"]),
    }


SORT_KEYS: dict[RunSort, InstrumentedAttribute[Any]] = {
    RunSort.CREATED_AT: Run.created_at,
    RunSort.FINISHED_AT: Run.finished_at,
    RunSort.TOTAL_RETURN: Run.key_total_return,
    RunSort.ANNUAL_RETURN: Run.key_annual_return,
    RunSort.SHARPE: Run.key_sharpe,
    RunSort.MAX_DRAWDOWN_PCT: Run.key_max_drawdown_pct,
    RunSort.WIN_RATE: Run.key_win_rate,
    RunSort.NUM_TRADES: Run.key_num_trades,
}


def order_by(sort: RunSort, order: SortOrder) -> list[ColumnElement[Any]]:
    """The sort key in `order` with runs lacking it last, then newest first, then by id: the
    same request always lists the same runs in the same order, page after page."""
    key = SORT_KEYS[sort]
    primary = (key.asc() if order is SortOrder.ASC else key.desc()).nulls_last()
    if sort is RunSort.CREATED_AT:
        return [primary, Run.id.asc()]
    return [primary, Run.created_at.desc(), Run.id.asc()]


def label_contains(text: str) -> ColumnElement[bool]:
    """Runs whose label holds `text`, ignoring case; % and _ are matched as themselves."""
    escaped = text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return Run.label.ilike(f"%{escaped}%", escape=_LIKE_ESCAPE)


def filters(
    *,
    strategy: str | None,
    run_type: RunType | None,
    status: RunStatus | None,
    label: str | None,
    is_reference: bool | None,
) -> list[ColumnElement[bool]]:
    """The conditions of the filters sent (None: not sent)."""
    conditions: list[ColumnElement[bool]] = []
    if strategy is not None:
        conditions.append(Run.strategy_id == strategy)
    if run_type is not None:
        conditions.append(Run.type == run_type)
    if status is not None:
        conditions.append(Run.status == status)
    if label is not None:
        conditions.append(label_contains(label))
    if is_reference is not None:
        conditions.append(Run.is_reference.is_(is_reference))
    return conditions
