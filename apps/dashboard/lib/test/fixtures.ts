/** Test data shared by several test files, typed as the API answers it so a schema change shows. */
import type { RunPage } from "@/lib/api/hooks";

/** One row of the run listing (GET /v1/runs). */
export type RunRow = RunPage["items"][number];

/** The key metrics of a run that has none yet (queued, running) or never will (failed, cancelled). */
export const NO_METRICS: RunRow["key_metrics"] = {
  total_return: null,
  annual_return: null,
  sharpe: null,
  max_drawdown_pct: null,
  win_rate: null,
  num_trades: null,
  open_trades: null,
  open_trade_pnl: null,
};

/** A backtest of momentum_v1 in `status`, as the listing shows it; `extra` replaces any field. */
export function runRow(id: string, status: RunRow["status"], extra: Partial<RunRow> = {}): RunRow {
  return {
    id,
    strategy_id: "momentum_v1",
    type: "backtest",
    status,
    progress: status === "running" ? 0.42 : status === "completed" ? 1 : 0,
    processed: 0,
    total: 0,
    message: status,
    cancel_requested: false,
    created_by: 1,
    created_at: "2024-03-01T10:00:00Z",
    started_at: null,
    finished_at: status === "completed" ? "2024-03-01T10:01:00Z" : null,
    key_metrics: NO_METRICS,
    label: null,
    is_reference: false,
    params_overrides: {},
    params: { fast: 20, slow: 50 },
    parameter_grid: null,
    symbols: ["SP500"],
    requested_start: "2010-01-01",
    requested_end: "2018-12-31",
    covered_start: status === "completed" ? "2010-01-04T00:00:00Z" : null,
    covered_end: status === "completed" ? "2018-12-31T00:00:00Z" : null,
    capital: 100000,
    data_source: status === "completed" ? "samples" : null,
    ...extra,
  };
}
