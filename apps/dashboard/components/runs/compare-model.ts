/** The compare page's side-by-side rows: what each run ran, then what it made, differences marked. */
import type { Run } from "@/lib/api/hooks";
import { drawdown, percent, ratio, signedPercent, toNumber } from "@/lib/format";
import { capitalText, dataSourceText, gridText, valueText } from "./run-facts";
import { runTypeLabel, shortId } from "./run-format";

/** The first and last equity point a run stored (null before it has results). */
export interface Covered {
  start: string | null;
  end: string | null;
}

export interface CompareRun {
  run: Run;
  covered: Covered;
}

export interface CompareRow {
  label: string;
  cells: string[];
  /** the runs do not all show the same value */
  differs: boolean;
  /** index of the best figure (metrics only; null when there is no better) */
  best: number | null;
}

export interface CompareSection {
  title: string;
  rows: CompareRow[];
}

const MAX_COMPARED = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The run ids of `?ids=a,b,c` (distinct, in order), or why they cannot be compared. */
export function compareIds(raw: string | null | undefined): { ids: string[]; problem: string | null } {
  const ids = [...new Set((raw ?? "").split(",").map((id) => id.trim()).filter(Boolean))];
  const bad = ids.filter((id) => !UUID.test(id));
  if (bad.length > 0) return { ids: [], problem: `not a run id: ${bad.join(", ")}` };
  if (ids.length < 2) return { ids, problem: "pick at least 2 runs to compare (tick them in the runs list)" };
  if (ids.length > MAX_COMPARED) return { ids, problem: `at most ${MAX_COMPARED} runs compare at once; ${ids.length} were given` };
  return { ids, problem: null };
}

const asObject = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const text = (value: unknown): string => (value === null || value === undefined || value === "" ? "—" : valueText(value));
const day = (iso: unknown): string => (typeof iso === "string" && iso ? iso.slice(0, 10) : "—");

function row(label: string, cells: string[]): CompareRow {
  return { label, cells, differs: new Set(cells).size > 1, best: null };
}

/** The dates the run asked for: its backtest's, else its config's; open ends said in words. */
function askedRange(backtest: Record<string, unknown>, config: Record<string, unknown>): string {
  const start = day(backtest["start"] ?? config["start"]);
  const end = day(backtest["end"] ?? config["end"]);
  return `${start === "—" ? "start of data" : start} → ${end === "—" ? "end of data" : end}`;
}

function setupRows(items: CompareRun[]): CompareRow[] {
  const backtest = (r: Run) => asObject(r.backtest_config);
  const config = (r: Run) => asObject(r.config);
  return [
    row("Strategy", items.map(({ run }) => run.strategy_id ?? "— (a train run)")),
    row("Type", items.map(({ run }) => runTypeLabel(run.type))),
    row("Label", items.map(({ run }) => run.label ?? "—")),
    row("Reference run", items.map(({ run }) => (run.is_reference ? "★ yes" : "no"))),
    row("Status", items.map(({ run }) => run.status)),
    row("Symbols", items.map(({ run }) => (Array.isArray(config(run)["universe"]) ? (config(run)["universe"] as unknown[]).join(", ") : "—"))),
    row("Dates asked", items.map(({ run }) => askedRange(backtest(run), config(run)))),
    row("Dates covered", items.map(({ covered }) => (covered.start ? `${day(covered.start)} → ${day(covered.end)}` : "no results"))),
    row("Capital", items.map(({ run }) => capitalText(backtest(run)["initial_capital"] as string | null))),
    row("Commission per trade", items.map(({ run }) => text(backtest(run)["commission_per_trade"]))),
    row("Slippage (bps)", items.map(({ run }) => text(backtest(run)["slippage_bps"]))),
    row("Fill timing", items.map(({ run }) => text(backtest(run)["fill_timing"]))),
    row("Data source", items.map(({ run }) => dataSourceText(asObject(run.repro)["data_source"] as string | null))),
    row("Code version", items.map(({ run }) => text(asObject(run.repro)["code_version"]).slice(0, 12))),
  ];
}

function paramRows(items: CompareRun[]): CompareRow[] {
  const params = items.map(({ run }) => asObject(asObject(run.config)["params"]));
  const names = [...new Set(params.flatMap((p) => Object.keys(p)))].sort();
  const rows = names.map((name) =>
    row(
      name,
      items.map(({ run }, i) => {
        const overridden = Object.hasOwn(run.params_overrides ?? {}, name);
        return Object.hasOwn(params[i]!, name) ? `${valueText(params[i]![name])}${overridden ? " *" : ""}` : "—";
      }),
    ),
  );
  // a backtest's config may carry its YAML's walk_forward block: only a walk-forward used it
  const grids = items.map(({ run }) =>
    run.type === "walk_forward"
      ? gridText(asObject(asObject(run.config)["walk_forward"])["parameter_grid"] as Record<string, unknown[]> | null)
      : null,
  );
  if (grids.some((g) => g !== null)) rows.push(row("walk-forward grid", grids.map((g) => g ?? "—")));
  return rows;
}

type Better = "higher" | "lower";
const METRICS: [key: string, label: string, format: (n: number) => string, better: Better][] = [
  ["total_return", "Total return", (n) => signedPercent(n), "higher"],
  ["annual_return", "CAGR", (n) => signedPercent(n), "higher"],
  ["sharpe", "Sharpe", (n) => ratio(n), "higher"],
  ["sortino", "Sortino", (n) => ratio(n), "higher"],
  ["max_drawdown_pct", "Max drawdown", (n) => drawdown(n), "lower"],
  ["annual_volatility", "Volatility (annual)", (n) => percent(n), "lower"],
  ["win_rate", "Win rate", (n) => percent(n, 1), "higher"],
  ["profit_factor", "Profit factor", (n) => ratio(n), "higher"],
  ["num_trades", "Trades", (n) => String(n), "higher"],
  ["exposure", "Exposure", (n) => percent(n, 1), "higher"],
  ["total_fees", "Fees", (n) => n.toLocaleString("en-US", { maximumFractionDigits: 2 }), "lower"],
  ["periods_per_year", "Periods per year (Sharpe's annualisation)", (n) => String(Math.round(n * 100) / 100), "higher"],
];
// figures with no better side: a count of trades or the annualisation factor are facts
const NO_BEST = new Set(["num_trades", "exposure", "periods_per_year"]);

function metricRows(items: CompareRun[]): CompareRow[] {
  return METRICS.map(([key, label, format, better]) => {
    const values = items.map(({ run }) => (run.status === "completed" ? toNumber(asObject(run.metrics)[key] as number | null) : null));
    const cells = values.map((v) => (v === null ? "—" : format(v)));
    const known = values.map((v, i) => [v, i] as const).filter((pair): pair is readonly [number, number] => pair[0] !== null);
    let best: number | null = null;
    if (!NO_BEST.has(key) && known.length > 1 && new Set(known.map(([v]) => v)).size > 1) {
      best = known.reduce((a, b) => ((better === "higher" ? b[0] > a[0] : b[0] < a[0]) ? b : a))[1];
    }
    return { ...row(label, cells), best };
  });
}

/** Every section of the side-by-side table, one column per run in the order given. */
export function compareSections(items: CompareRun[]): CompareSection[] {
  return [
    { title: "Setup", rows: setupRows(items) },
    { title: "Params (* set by the run's request)", rows: paramRows(items) },
    { title: "Results (best of the runs in bold)", rows: metricRows(items) },
  ];
}

/** "1a2b3c4d · momentum_v1 · fast 10" as a chart legend names a run. */
export function runName(run: Pick<Run, "id" | "strategy_id" | "label">): string {
  return `${shortId(run.id)} · ${run.strategy_id}${run.label ? ` · ${run.label}` : ""}`;
}
