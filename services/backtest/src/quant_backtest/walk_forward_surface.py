"""The in-sample objective over the parameter grid, shaped for the walk-forward heatmap."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quant_backtest.walk_forward_model import WalkForwardResult, WindowResult


@dataclass(frozen=True, slots=True)
class ObjectiveSurface:
    """The in-sample objective over the grid, shaped for a heatmap.

    z[row][column] is None where no window scored the cell; chosen counts the windows whose
    chosen combination falls in each (row, column) cell.
    """

    x_title: str
    y_title: str
    x: list[str]
    y: list[str]
    z: list[list[float | None]]
    chosen: dict[tuple[int, int], int]
    caption: str
    by_window: bool = False  # one parameter: rows are windows, not a second parameter's values


def objective_surface(result: WalkForwardResult) -> ObjectiveSurface | None:
    """The heatmap of the in-sample objective, or None when the grid varies no parameter.

    One parameter: a row per window, a column per value, the window's score. Two or more: rows
    are the first parameter's values, columns the second's, and each cell the mean across
    windows of the window's best score over any further parameters. Missing and non-finite
    scores are ignored.
    """
    grid = grid_parameters(result)
    names = list(grid)
    if not names:
        return None
    cells = [_cell(combo, names[:2], grid) for combo in result.grid]
    objective = str(result.walk_forward_config.get("objective", "objective"))
    if len(names) == 1:
        return _single_parameter_surface(result, names[0], grid[names[0]], cells, objective)
    first, second, *others = names
    best_per_window = [_best_per_cell(w, cells) for w in result.windows]
    z: list[list[float | None]] = []
    for row in range(len(grid[first])):
        z.append([])
        for column in range(len(grid[second])):
            found = [best[(row, column)] for best in best_per_window if (row, column) in best]
            z[row].append(math.fsum(found) / len(found) if found else None)
    chosen = Counter(cell for w in result.windows if (cell := _chosen_cell(w, cells)) is not None)
    caption = f"Mean in-sample {objective} across windows for each ({first}, {second}) pair"
    if others:
        caption += f", taking the best over {', '.join(others)} in each window"
    caption += "; circles mark the chosen cells, with the number of windows that chose them."
    return ObjectiveSurface(
        x_title=second,
        y_title=first,
        x=value_labels(grid[second]),
        y=value_labels(grid[first]),
        z=z,
        chosen=dict(chosen),
        caption=caption,
    )


def _single_parameter_surface(
    result: WalkForwardResult,
    name: str,
    values: list[Any],
    cells: list[tuple[int, int] | None],
    objective: str,
) -> ObjectiveSurface:
    z: list[list[float | None]] = []
    chosen: dict[tuple[int, int], int] = {}
    for row, window in enumerate(result.windows):
        best = _best_per_cell(window, cells)
        z.append([best.get((0, column)) for column in range(len(values))])
        cell = _chosen_cell(window, cells)
        if cell is not None:
            chosen[(row, cell[1])] = 1
    return ObjectiveSurface(
        x_title=name,
        y_title="Window",
        x=value_labels(values),
        y=[f"W{w.window.number}" for w in result.windows],
        z=z,
        chosen=chosen,
        by_window=True,
        caption=f"In-sample {objective} of every value of {name} in each window; "
        "circles mark the chosen value.",
    )


def _best_per_cell(
    window: WindowResult, cells: list[tuple[int, int] | None]
) -> dict[tuple[int, int], float]:
    best: dict[tuple[int, int], float] = {}
    for cell, score in zip(cells, window.scores, strict=False):
        if cell is None or score is None or not math.isfinite(score):
            continue
        best[cell] = max(score, best.get(cell, -math.inf))
    return best


def _chosen_cell(
    window: WindowResult, cells: list[tuple[int, int] | None]
) -> tuple[int, int] | None:
    index = window.chosen_index
    return cells[index] if index is not None and index < len(cells) else None


def _cell(
    combo: dict[str, Any], names: list[str], grid: dict[str, list[Any]]
) -> tuple[int, int] | None:
    """(row, column) of a combination: its first and second parameters' positions in the grid.

    With a single parameter the row is always 0 and the column is that parameter's position.
    """
    positions: list[int] = []
    for name in names:
        position = grid_position(grid[name], combo.get(name))
        if position is None:
            return None
        positions.append(position)
    return (0, positions[0]) if len(positions) == 1 else (positions[0], positions[1])


def grid_position(values: Sequence[Any], value: Any) -> int | None:
    """Index of `value` among a parameter's grid values, or None when it is not one of them.

    An equal value is looked for first (as `list.index`), then one with the same repr (NaN).
    """
    try:
        return values.index(value)
    except ValueError:
        text = repr(value)
        return next((i for i, candidate in enumerate(values) if repr(candidate) == text), None)


def grid_parameters(result: WalkForwardResult) -> dict[str, list[Any]]:
    grid = result.walk_forward_config.get("parameter_grid") or {}
    return {str(name): list(values) for name, values in dict(grid).items()}


def value_labels(values: Sequence[Any]) -> list[str]:
    labels = [format_value(v) for v in values]
    return labels if len(set(labels)) == len(labels) else [repr(v) for v in values]


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
