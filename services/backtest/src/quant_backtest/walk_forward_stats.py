"""Choosing the winner of a window, and how stable the winners are across windows."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from quant_backtest.grid_search import ComboResult
from quant_backtest.walk_forward_model import ParameterStability, WindowResult
from quant_backtest.walk_forward_surface import grid_position
from quant_engine.overfitting import PBOResult, probability_of_backtest_overfitting


def choose(scores: list[float], trades: list[int], min_trades: int) -> int | None:
    """Index of the best score among combinations with enough trades; first one wins ties."""
    best: int | None = None
    for index, (value, count) in enumerate(zip(scores, trades, strict=True)):
        if count < min_trades or (not math.isfinite(value) and value < 0):
            continue
        if best is None or value > scores[best]:
            best = index
    return best


def _neighbours(chosen: int, combos: list[dict[str, Any]], grid: dict[str, list[Any]]) -> list[int]:
    """Combinations one grid step away from `chosen` in exactly one parameter."""
    here = combos[chosen]
    position = {name: _grid_index(grid[name], here[name]) for name in grid}
    found = []
    for index, combo in enumerate(combos):
        steps = [abs(_grid_index(grid[n], combo[n]) - position[n]) for n in grid]
        if sum(steps) == 1:
            found.append(index)
    return found


def _grid_index(values: list[Any], value: Any) -> int:
    position = grid_position(values, value)
    if position is None:
        raise ValueError(f"{value!r} is not one of the grid values {values!r}")
    return position


def plateau(
    scores: list[float], chosen: int, combos: list[dict[str, Any]], grid: dict[str, list[Any]]
) -> float | None:
    """Mean neighbour score over the chosen score: near 1 is a flat optimum, near 0 a lone spike.

    None when the chosen score is not positive or the chosen point has no neighbours.
    """
    best = scores[chosen]
    if not grid or best <= 0 or not math.isfinite(best):
        return None
    around = [scores[i] for i in _neighbours(chosen, combos, grid) if math.isfinite(scores[i])]
    if not around:
        return None
    return float(np.mean(around)) / best


def stability(windows: list[WindowResult], grid: dict[str, list[Any]]) -> list[ParameterStability]:
    """Per grid parameter: the chosen value per window and how far it moved, in grid steps."""
    out = []
    for name, values in grid.items():
        chosen = [None if w.chosen_params is None else w.chosen_params.get(name) for w in windows]
        positions = [_grid_index(values, v) for v in chosen if v is not None]
        moves = [abs(b - a) for a, b in itertools.pairwise(positions)]
        mean_move = float(np.mean(moves)) if moves else 0.0
        span = len(values) - 1
        out.append(
            ParameterStability(
                name=name,
                values=chosen,
                distinct=len(set(map(repr, (v for v in chosen if v is not None)))),
                mean_step_change=mean_move,
                normalised_change=mean_move / span if span else 0.0,
            )
        )
    return out


def pbo_or_none(results: list[ComboResult], max_splits: int = 16) -> PBOResult | None:
    """PBO over the full-span returns of every combination, with as many splits as the data allows."""
    if len(results) < 2:
        return None
    length = min(r.full_returns.size for r in results)
    splits = min(max_splits, (length // 2) // 2 * 2)
    while splits >= 2 and length < 2 * splits:
        splits -= 2
    if splits < 2:
        return None
    matrix = np.column_stack([r.full_returns[-length:] for r in results])
    return probability_of_backtest_overfitting(matrix, n_splits=splits)
