"use client";
/** Hooks of the strategy pages that lib/api/hooks.ts has no exact match for, built on useApi. */
import { SLOW_POLL_MS, useApi } from "./hooks";

/** The equity curve of a finished run (read once); `null` pauses the hook (no completed run). */
export const useFinishedRunEquity = (runId: string | null, points = 1000) =>
  useApi(runId === null ? null : "/v1/runs/{run_id}/equity", { path: { run_id: runId ?? "" }, query: { points } }, {
    refreshInterval: 0,
  });

/** The newest runs of one strategy, polled like every run listing (10 s). */
export const useStrategyRuns = (strategyId: string, perPage = 10) =>
  useApi("/v1/runs", { query: { strategy: strategyId, per_page: perPage } }, { refreshInterval: SLOW_POLL_MS });
