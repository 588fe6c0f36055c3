/** What a run ran, in a few words: its params (overrides marked), dates, capital and data source. */
import type { RunPage } from "@/lib/api/hooks";
import { money } from "@/lib/format";

type RunRow = RunPage["items"][number];

/** A param value as a person writes it: 10, 0.5, true, "abc", [1, 2]. */
export function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "default";
  return JSON.stringify(value);
}

export interface ParamFact {
  name: string;
  value: string;
  /** the request set this one (the rest are the strategy's own) */
  overridden: boolean;
}

/** Each effective param, in name order, marked when the run's request overrode it. Overrides
 * not recorded (runs queued before they were kept) mark nothing. */
export function paramFacts(
  params: Record<string, unknown> | null | undefined,
  overrides: Record<string, unknown> | null | undefined,
): ParamFact[] {
  const set = new Set(Object.keys(overrides ?? {}));
  return Object.keys(params ?? {})
    .sort()
    .map((name) => ({ name, value: valueText(params?.[name]), overridden: set.has(name) }));
}

/** "fast ×5, slow ×5 (25 combinations)" for a walk-forward's grid. */
export function gridText(grid: Record<string, unknown[]> | null | undefined): string | null {
  if (!grid) return null;
  const names = Object.keys(grid).sort();
  if (names.length === 0) return null;
  const combinations = names.reduce((product, name) => product * Math.max(1, grid[name]?.length ?? 1), 1);
  return `${names.map((name) => `${name} ×${grid[name]?.length ?? 0}`).join(", ")} (${combinations} combinations)`;
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : null);

/** The dates a run covered once it has results, else the dates it asked for ("start of data" /
 * "end of data" where it asked for none). */
export function dateRangeText(run: Pick<RunRow, "requested_start" | "requested_end" | "covered_start" | "covered_end">): string {
  if (run.covered_start && run.covered_end) return `${day(run.covered_start)} → ${day(run.covered_end)}`;
  return `${day(run.requested_start) ?? "start of data"} → ${day(run.requested_end) ?? "end of data"}`;
}

/** What the date range shows: covered (from results) or asked for (not run yet). */
export function dateRangeKind(run: Pick<RunRow, "covered_start">): "covered" | "requested" {
  return run.covered_start ? "covered" : "requested";
}

/** "samples", "database" (the API says `db`), or "not read yet". */
export function dataSourceText(source: string | null | undefined): string {
  if (!source) return "not read yet";
  return source === "db" ? "database" : source;
}

/** Starting capital without cents when it has none: "100,000". */
export function capitalText(capital: string | number | null | undefined): string {
  if (capital === null || capital === undefined) return "—";
  const n = Number(capital);
  return money(capital, Number.isInteger(n) ? 0 : 2);
}
