"""The walk-forward report's assumptions note and run-metadata table."""

from __future__ import annotations

from quant_backtest.report_html import bullet_note, config_number, key_value_table, metadata_rows
from quant_backtest.walk_forward_model import WalkForwardResult


def assumptions_note(result: WalkForwardResult) -> str:
    wf = result.walk_forward_config
    config = result.backtest_config
    step = wf.get("step_days") or wf.get("out_of_sample_days", "?")
    lines = [
        f"Windows are {wf.get('window_type', 'not recorded')}: {wf.get('in_sample_days', '?')} "
        f"calendar days in-sample, {wf.get('out_of_sample_days', '?')} out-of-sample, "
        f"advancing {step} days at a time.",
        f"In each window every grid combination is backtested in-sample and the best "
        f"{wf.get('objective', 'objective')} among those with at least "
        f"{wf.get('min_trades_required', '?')} closed trades is chosen; a window where none "
        "qualifies is skipped and its out-of-sample period is spent in cash.",
        "Each out-of-sample window is a plain backtest of the chosen parameters: indicators warm "
        "up on the bars before the window, orders are only placed inside it, and every position "
        "is liquidated at the window's end.",
        "The stitched equity curve chains the windows: each starts with the capital the "
        "previous one ended with.",
        f"Fills and costs are those of the backtest config: slippage "
        f"{config_number(config, 'slippage_bps', '{:g}')} bps, commission "
        f"{config_number(config, 'commission_per_trade', '{:,.2f}')} per trade plus "
        f"{config_number(config, 'commission_bps', '{:g}')} bps of traded notional.",
    ]
    return bullet_note(lines)


def metadata_table(result: WalkForwardResult) -> str:
    meta = result.metadata
    rows = [
        *metadata_rows(meta),
        ("Python", meta.python_version),
        ("Platform", meta.platform),
        *((f"Time: {stage}", f"{seconds:.2f} s") for stage, seconds in result.timings.items()),
    ]
    return key_value_table(rows, code=True)
