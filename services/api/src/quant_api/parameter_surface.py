"""A walk-forward run's in-sample objective over its parameter grid, for the dashboard's heatmap.

The rule of the walk-forward HTML report's heatmap (quant_backtest.walk_forward_surface, which
services may not import; a test holds the two to the same answer), read from what the worker
stored: each window's score per grid combination (`runs.metrics.walk_forward.windows[].scores`,
in the order WalkForwardConfig.combinations lays the grid, the worker's own order) and its
chosen parameters.

One parameter: a row per window, a column per value, the window's score. Two or more: rows are
the first parameter's values, columns the second's, each cell the mean across windows of the
window's best score over any further parameters.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from quant_api.schemas.v1.analytics import ChosenCell, ParameterSurface
from quant_engine.walk_forward_config import WalkForwardConfig

Cell = tuple[int, int]


def grid_position(values: Sequence[Any], value: Any) -> int | None:
    """Index of `value` among a parameter's values (an equal one first, then the same repr)."""
    try:
        return list(values).index(value)
    except ValueError:
        text = repr(value)
        return next((i for i, candidate in enumerate(values) if repr(candidate) == text), None)


def value_labels(values: Sequence[Any]) -> list[str]:
    def label(value: Any) -> str:
        if value is None:
            return "—"
        return f"{value:g}" if isinstance(value, float) else str(value)

    labels = [label(v) for v in values]
    return labels if len(set(labels)) == len(labels) else [repr(v) for v in values]


def _cell(params: dict[str, Any], names: list[str], grid: dict[str, list[Any]]) -> Cell | None:
    positions = [grid_position(grid[name], params.get(name)) for name in names]
    if any(p is None for p in positions):
        return None
    found = [p for p in positions if p is not None]
    return (0, found[0]) if len(found) == 1 else (found[0], found[1])


def _best(scores: Sequence[float | None], cells: Sequence[Cell | None]) -> dict[Cell, float]:
    best: dict[Cell, float] = {}
    for cell, score in zip(cells, scores, strict=False):
        if cell is None or score is None or not math.isfinite(score):
            continue
        best[cell] = max(score, best.get(cell, -math.inf))
    return best


def parameter_surface(
    config: dict[str, Any], windows: Sequence[dict[str, Any]]
) -> ParameterSurface | None:
    """The heatmap of a walk-forward run, or None when its grid varies no parameter."""
    try:
        wf = WalkForwardConfig.model_validate(config.get("walk_forward") or {})
    except ValidationError:
        return None
    grid = {str(name): list(values) for name, values in wf.parameter_grid.items()}
    names = list(grid)
    if not names or not windows:
        return None
    combos = wf.combinations(dict(config.get("params") or {}))
    cells = [_cell(combo, names[:2], grid) for combo in combos]
    objective = wf.objective.value
    best = [_best(w.get("scores") or [], cells) for w in windows]
    chosen_cells = [
        _cell(w["chosen_params"], names[:2], grid) if w.get("chosen_params") else None
        for w in windows
    ]
    if len(names) == 1:
        name = names[0]
        return ParameterSurface(
            objective=objective,
            x_title=name,
            y_title="Window",
            x=value_labels(grid[name]),
            y=[f"W{w.get('number')}" for w in windows],
            z=[[b.get((0, column)) for column in range(len(grid[name]))] for b in best],
            chosen=[
                ChosenCell(row=row, column=cell[1], windows=1)
                for row, cell in enumerate(chosen_cells)
                if cell is not None
            ],
            by_window=True,
            caption=f"In-sample {objective} of every value of {name} in each window; "
            "outlined cells are the chosen values.",
        )
    first, second, *others = names
    z: list[list[float | None]] = []
    for row in range(len(grid[first])):
        z.append([])
        for column in range(len(grid[second])):
            found = [b[(row, column)] for b in best if (row, column) in b]
            z[row].append(math.fsum(found) / len(found) if found else None)
    counts = Counter(cell for cell in chosen_cells if cell is not None)
    caption = f"Mean in-sample {objective} across windows for each ({first}, {second}) pair"
    if others:
        caption += f", taking the best over {', '.join(others)} in each window"
    caption += "; outlined cells were chosen, with the number of windows that chose them."
    return ParameterSurface(
        objective=objective,
        x_title=second,
        y_title=first,
        x=value_labels(grid[second]),
        y=value_labels(grid[first]),
        z=z,
        chosen=[
            ChosenCell(row=row, column=column, windows=n)
            for (row, column), n in sorted(counts.items())
        ],
        by_window=False,
        caption=caption,
    )
