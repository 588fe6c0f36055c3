"""walk_forward.json: windows with their choices and scores, the stitched curve, the statistics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd

from quant_backtest.report_html import write_text
from quant_backtest.report_json import fill_to_dict, trade_to_dict
from quant_backtest.walk_forward_model import WalkForwardResult, WindowResult
from quant_engine.metrics import finite_or_none


def _window(item: WindowResult) -> dict[str, Any]:
    w = item.window
    return {
        "number": w.number,
        "in_sample": [w.in_sample_start.isoformat(), w.in_sample_end.isoformat()],
        "out_of_sample": [w.out_of_sample_start.isoformat(), w.out_of_sample_end.isoformat()],
        "status": item.status,
        "note": item.note,
        "chosen_params": item.chosen_params,
        "in_sample_score": finite_or_none(item.in_sample_score),
        "out_of_sample_score": finite_or_none(item.out_of_sample_score),
        "plateau": finite_or_none(item.plateau),
        "in_sample_dsr": None
        if item.in_sample_dsr is None
        else finite_or_none(item.in_sample_dsr.dsr),
        "in_sample_metrics": None
        if item.in_sample_metrics is None
        else item.in_sample_metrics.as_dict(),
        "out_of_sample_metrics": None
        if item.out_of_sample_metrics is None
        else item.out_of_sample_metrics.as_dict(),
        "start_equity": item.out_of_sample_start_equity,
        "end_equity": item.out_of_sample_end_equity,
        "scores": [finite_or_none(s) for s in item.scores],
        "trade_counts": item.trade_counts,
    }


def walk_forward_summary(result: WalkForwardResult) -> dict[str, Any]:
    """The windows and the overfitting statistics: the part of walk_forward.json a job keeps."""
    pbo = result.pbo
    dsr = result.oos_dsr
    return {
        "windows": [_window(w) for w in result.windows],
        "pbo": None
        if pbo is None
        else {
            "pbo": pbo.pbo,
            "n_combinations": pbo.n_combinations,
            "n_splits": pbo.n_splits,
            "prob_oos_loss": pbo.prob_oos_loss,
            "degradation_slope": finite_or_none(pbo.performance_degradation.slope),
        },
        "deflated_sharpe": None
        if dsr is None
        else {k: finite_or_none(v) for k, v in dataclasses.asdict(dsr).items()},
        "efficiency": finite_or_none(result.efficiency),
        "stability": [dataclasses.asdict(s) for s in result.stability],
    }


def walk_forward_to_dict(result: WalkForwardResult) -> dict[str, Any]:
    fills = {f.fill_id: f for f in result.fills}
    summary = walk_forward_summary(result)
    return {
        "format_version": 1,
        "id": result.id,
        "strategy_id": result.strategy_id,
        "strategy_config": result.strategy_config,
        "backtest_config": result.backtest_config,
        "walk_forward_config": result.walk_forward_config,
        "grid": result.grid,
        "warmup_bars": result.warmup_bars,
        "fast_path": result.fast_path,
        "workers": result.workers,
        "timings": result.timings,
        "windows": summary["windows"],
        "out_of_sample_metrics": result.oos_metrics.as_dict(),
        "degradation": [finite_or_none(d) for d in result.degradation],
        "efficiency": summary["efficiency"],
        "deflated_sharpe": summary["deflated_sharpe"],
        "pbo": summary["pbo"],
        "stability": summary["stability"],
        "equity_curve": [
            {"timestamp": ts.isoformat(), "equity": round(float(v), 6)}
            for ts, v in zip(
                pd.DatetimeIndex(result.equity.index),
                result.equity["equity"].to_numpy(),
                strict=True,
            )
        ],
        "trades": [trade_to_dict(t, fills) for t in result.trades],
        "fills": [fill_to_dict(f) for f in result.fills],
        "metadata": result.metadata.to_dict(),
    }


def write_walk_forward_json(result: WalkForwardResult, path: Path) -> Path:
    text = json.dumps(walk_forward_to_dict(result), indent=1, allow_nan=False, default=str)
    return write_text(path, text)
