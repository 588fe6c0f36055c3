/** How runs are named and summarised on the runs pages. */
import type { RunPage } from "@/lib/api/hooks";
import { drawdown, percent, ratio, signedPercent, toNumber } from "@/lib/format";

/** "backtest" or "walk-forward", as a person reads the run type. */
export function runTypeLabel(type: string): string {
  return type === "walk_forward" ? "walk-forward" : type;
}

/** The first block of a run id: enough to tell runs apart in a table. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Progress as a whole percentage 0..100 (the API sends a 0..1 fraction). */
export function progressPercent(progress: number | null | undefined): number {
  const n = toNumber(progress);
  if (n === null) return 0;
  return Math.round(Math.min(1, Math.max(0, n)) * 100);
}

type Metrics = Record<string, unknown>;

function num(metrics: Metrics, key: string): number | null {
  const value = metrics[key];
  return typeof value === "number" || typeof value === "string" ? toNumber(value) : null;
}

/** The headline figures a runs listing row carries (null until the run completes). */
export type RunKeyMetrics = RunPage["items"][number]["key_metrics"];

/** A runs table's figures: signed percentages, 2 decimals; drawdowns shown as falls; "—" for null.
 * Trades are the closed round trips, with positions still held at the end named apart ("0 + 1 open"). */
export function keyMetricsText(m: RunKeyMetrics) {
  const open = m.open_trades ?? 0;
  return {
    totalReturn: signedPercent(m.total_return),
    sharpe: ratio(m.sharpe),
    maxDrawdown: drawdown(m.max_drawdown_pct),
    trades: m.num_trades === null ? "—" : open > 0 ? `${m.num_trades} + ${open} open` : String(m.num_trades),
  };
}

/** What a closed-trade statistic reads when no trade closed: there is no win rate, not a 0 % one. */
export const NO_CLOSED_TRADES = "no closed trades";

/** Statistics of closed trades only: without a closed trade they say NO_CLOSED_TRADES (the win rate)
 * or are left out, whatever an older run stored for them. */
const CLOSED_TRADE_STATS = new Set(["win_rate", "profit_factor", "avg_trade_return", "avg_win", "avg_loss", "best_trade", "worst_trade"]);

export interface MetricTile {
  label: string;
  value: string;
  tone?: "good" | "bad";
}

const moneyFmt = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Stat tiles for whatever a completed run stored, in a reading order; unknown keys are skipped. */
export function metricTiles(metrics: Metrics): MetricTile[] {
  const spec: [string, string, (n: number) => string, boolean?][] = [
    ["total_return", "Total return", (n) => percent(n), true],
    ["annual_return", "CAGR", (n) => percent(n), true],
    ["sharpe", "Sharpe", (n) => ratio(n)],
    ["sortino", "Sortino", (n) => ratio(n)],
    ["calmar", "Calmar", (n) => ratio(n)],
    ["psr", "Probabilistic Sharpe", (n) => percent(n, 1)],
    ["max_drawdown_pct", "Max drawdown", (n) => drawdown(n)],
    ["max_drawdown_duration", "Longest drawdown (bars)", (n) => String(n)],
    ["annual_volatility", "Volatility (annual)", (n) => percent(n)],
    ["win_rate", "Win rate", (n) => percent(n, 1)],
    ["profit_factor", "Profit factor", (n) => ratio(n)],
    ["num_trades", "Closed trades", (n) => String(n)],
    ["open_trades", "Open trades at the end", (n) => String(n)],
    ["open_trade_pnl", "Open trade PnL (unrealised)", moneyFmt, true],
    ["avg_trade_return", "Avg trade return", (n) => percent(n), true],
    ["avg_win", "Avg win", moneyFmt],
    ["avg_loss", "Avg loss", moneyFmt],
    ["best_trade", "Best trade", moneyFmt, true],
    ["worst_trade", "Worst trade", moneyFmt, true],
    ["exposure", "Exposure", (n) => percent(n, 1)],
    ["turnover", "Turnover", (n) => ratio(n)],
    ["total_fees", "Fees", moneyFmt],
    ["start_equity", "Start equity", moneyFmt],
    ["end_equity", "End equity", moneyFmt],
  ];
  const tiles: MetricTile[] = [];
  const noneClosed = num(metrics, "num_trades") === 0;
  const noneOpen = (num(metrics, "open_trades") ?? 0) === 0;
  for (const [key, label, format, signed] of spec) {
    if (noneClosed && CLOSED_TRADE_STATS.has(key)) {
      if (key === "win_rate") tiles.push({ label, value: NO_CLOSED_TRADES });
      continue;
    }
    if (noneOpen && (key === "open_trades" || key === "open_trade_pnl")) continue;
    const n = num(metrics, key);
    if (n === null) continue;
    tiles.push({ label, value: format(n), tone: signed ? (n >= 0 ? "good" : "bad") : undefined });
  }
  return tiles;
}
