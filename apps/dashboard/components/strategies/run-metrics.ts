/** The headline figures a run stores in its `metrics` (quant_engine.metrics.Metrics.as_dict). */

export interface HeadlineMetrics {
  totalReturn: number | null;
  sharpe: number | null;
  /** largest fall from a peak, as a positive fraction */
  maxDrawdown: number | null;
  trades: number | null;
  /** the annualisation factor the run's own bars gave its Sharpe */
  periodsPerYear: number | null;
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
    periodsPerYear: numberAt(m, "periods_per_year"),
  };
}

/** The line under a run's headline figures: whose money, and how Sharpe was annualised. */
export function headlineNote(capital: number | null | undefined, periodsPerYear: number | null): string {
  const money = capital ? `its own capital of ${capital.toLocaleString("en-US")}` : "its own capital";
  const sharpe =
    periodsPerYear === null ? "Sharpe as the run stored it" : `Sharpe annualised with this run's ${Math.round(periodsPerYear * 100) / 100} periods per year`;
  return `One run's figures on ${money}, not added to any other run; ${sharpe}.`;
}

export type HeadlineBasis = "reference" | "latest_completed";

/** What a strategy's headline figures come from, said plainly (ADR 0018): its starred reference
 * run, or, with none starred, its latest completed run, which the next completed test replaces. */
export function headlineBasisText(run: { basis: HeadlineBasis; type: string; label?: string | null }): string {
  const kind = run.type === "walk_forward" ? "walk-forward" : run.type;
  if (run.basis === "reference") return `Reference run${run.label ? ` “${run.label}”` : ""} (starred ★)`;
  return `No reference run starred: the latest completed ${kind}, replaced by the next one to complete`;
}

/** The short form for table cells: "★ reference" or "latest (no reference)". */
export function headlineBasisShort(basis: HeadlineBasis): string {
  return basis === "reference" ? "★ reference" : "latest (no reference)";
}
