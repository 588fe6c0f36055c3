"use client";
/**
 * Hooks the runs pages need beyond lib/api/hooks.ts, all built on `useApi`. A finished run never
 * changes, so what is read about one is read once and kept (no polling, no refetch on focus).
 */
import type { SWRConfiguration } from "swr";
import { SLOW_POLL_MS, useApi } from "./hooks";

/** Read once: a finished run's detail, equity, prices and windows never change. */
export const READ_ONCE: SWRConfiguration = {
  refreshInterval: 0,
  revalidateOnFocus: false,
  revalidateIfStale: false,
};

/** A finished run's detail for its metrics (the runs listing carries none); `null` pauses. */
export const useFinishedRun = (id: string | null) =>
  useApi(id === null ? null : "/v1/runs/{run_id}", { path: { run_id: id ?? "" } }, READ_ONCE);

/** One page of a run's trades, polled while the run is active. */
export const useTradePage = (id: string, active: boolean, page: number, perPage: number) =>
  useApi("/v1/runs/{run_id}/trades", { path: { run_id: id }, query: { page, per_page: perPage } }, {
    ...(active ? { refreshInterval: SLOW_POLL_MS } : READ_ONCE),
  });
