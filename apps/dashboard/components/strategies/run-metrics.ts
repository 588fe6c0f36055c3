/** The headline figures a run stores in its `metrics` (quant_engine.metrics.Metrics.as_dict). */

export interface HeadlineMetrics {
  totalReturn: number | null;
  sharpe: number | null;
  /** largest fall from a peak, as a positive fraction */
  maxDrawdown: number | null;
  trades: number | null;
}

function numberAt(metrics: Record<string, unknown>, key: string): number | null {
  const value = metrics[key];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** Reads the stored metrics; a figure the run did not store is null (shown as a dash). */
export function headlineMetrics(metrics: Record<string, unknown> | null | undefined): HeadlineMetrics {
  const m = metrics ?? {};
  return {
    totalReturn: numberAt(m, "total_return"),
    sharpe: numberAt(m, "sharpe"),
    maxDrawdown: numberAt(m, "max_drawdown_pct"),
    trades: numberAt(m, "num_trades"),
  };
}
