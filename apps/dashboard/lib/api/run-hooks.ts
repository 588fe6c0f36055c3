"use client";
/**
 * Hooks the runs pages need beyond lib/api/hooks.ts, all built on `useApi`. A finished run never
 * changes, so what is read about one is read once and kept (no polling, no refetch on focus).
 */
import useSWR, { type SWRConfiguration } from "swr";
import { api, type ApiError, type ResponseOf } from "./client";
import { CHART_READ, READ_ONCE, type Trades, useApi } from "./hooks";

/** One page of a finished run's trades, read once. */
export const useTradePage = (id: string, page: number, perPage: number) =>
  useApi("/v1/runs/{run_id}/trades", { path: { run_id: id }, query: { page, per_page: perPage } }, READ_ONCE);

export type Trade = Trades["items"][number];

/** Most trades a chart reads (the histogram and the price markers): ten pages of 500. */
export const MAX_CHART_TRADES = 5_000;
const TRADE_CHUNK = 500;

/** Every trade of a finished run, up to MAX_CHART_TRADES, read in pages of 500. `useApi` reads one
 * page per key; the charts need the whole set, so this one key walks the pages itself. */
export function useAllTrades(id: string | null) {
  return useSWR<{ items: Trade[]; total: number }, ApiError, readonly ["all-trades", string] | null>(
    id === null ? null : (["all-trades", id] as const),
    async ([, runId]) => {
      const items: Trade[] = [];
      let total = 0;
      for (let page = 1; items.length < MAX_CHART_TRADES; page += 1) {
        const answer = await api.get("/v1/runs/{run_id}/trades", {
          path: { run_id: runId },
          query: { page, per_page: TRADE_CHUNK },
        });
        total = answer.total;
        items.push(...answer.items);
        if (answer.items.length < TRADE_CHUNK || items.length >= total) break;
      }
      return { items, total };
    },
    READ_ONCE,
  );
}

export type PriceSeries = ResponseOf<"/v1/runs/{run_id}/prices">;
export type WalkForwardWindows = ResponseOf<"/v1/runs/{run_id}/windows">;
export type WalkForwardWindow = WalkForwardWindows["windows"][number];

/** One of a run's symbols over the run's dates, at most `points` bars (merged on the server),
 * with the strategy's indicators; transient failures are retried like a chart's (CHART_READ). */
export const useRunPrices = (id: string, symbol: string | null, points = 1500) =>
  useApi(
    symbol === null ? null : "/v1/runs/{run_id}/prices",
    { path: { run_id: id }, query: { symbol: symbol ?? "", points } },
    CHART_READ as SWRConfiguration<PriceSeries, ApiError>,
  );

/** A walk-forward run's windows and statistics: empty until it completes, then fixed. Read once;
 * the walk-forward section reads them again when the run's status moves on. */
export const useRunWindows = (id: string) => useApi("/v1/runs/{run_id}/windows", { path: { run_id: id } }, READ_ONCE);

/** The catalogue of ingested symbols (per timeframe, with their first and last bar). */
export const useSymbols = () =>
  useApi("/v1/symbols", {}, { refreshInterval: 0, revalidateOnFocus: false });
