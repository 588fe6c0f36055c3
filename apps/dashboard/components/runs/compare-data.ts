"use client";
/** The compare page's reads: each run's detail and its (downsampled) equity curve, in parallel. */
import useSWR from "swr";
import { api, type ApiError } from "@/lib/api/client";
import { type Equity, isActive } from "@/lib/api/hooks";
import type { CompareRun } from "./compare-model";

export interface ComparedRun extends CompareRun {
  equity: Equity["points"];
}

/** Points each curve is drawn with: enough for a chart, far below a run's full series (the CSV
 * export has every point). */
export const COMPARE_POINTS = 1000;

async function readRun(id: string): Promise<ComparedRun> {
  const run = await api.get("/v1/runs/{run_id}", { path: { run_id: id } });
  if (run.status !== "completed") return { run, equity: [], covered: { start: null, end: null } };
  const equity = await api.get("/v1/runs/{run_id}/equity", { path: { run_id: id }, query: { points: COMPARE_POINTS } });
  const points = equity.points;
  return {
    run,
    equity: points,
    covered: { start: points[0]?.ts ?? null, end: points[points.length - 1]?.ts ?? null },
  };
}

/** The runs `ids`, read together: a finished run never changes, so once none is queued or
 * running nothing is read again; until then every 5 s. */
export function useComparedRuns(ids: string[]) {
  return useSWR<ComparedRun[], ApiError, readonly ["compare-runs", ...string[]] | null>(
    ids.length > 0 ? (["compare-runs", ...ids] as const) : null,
    ([, ...runIds]) => Promise.all(runIds.map(readRun)),
    {
      refreshInterval: (runs) => (runs === undefined || runs.some(({ run }) => isActive(run.status)) ? 5_000 : 0),
      revalidateOnFocus: false,
    },
  );
}
