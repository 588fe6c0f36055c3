"use client";
/**
 * One SWR hook per resource. Polling: every 5 s for metrics, positions, alerts, risk and the
 * kill switch; every 10 s for strategies, runs and health; a run that is still queued or running is
 * polled every second (faster while young or finishing, runPollMs) so its progress moves and
 * its charts follow its completion closely; a finished one is not polled again; what a finished
 * run produced (equity, statistics, trades, windows) is read once (READ_ONCE, CHART_READ). SWR
 * schedules the next poll only after the previous one answered and dedupes identical keys, so
 * slow answers never pile requests up, and it does not poll while the tab is hidden
 * (refreshWhenHidden false).
 */
import useSWR, { type SWRConfiguration, type SWRResponse } from "swr";
import { api, type ApiError, type PathsWith, type QueryOf, type PathParamsOf, type ResponseOf } from "./client";

export const FAST_POLL_MS = 5_000;
export const SLOW_POLL_MS = 10_000;
export const ACTIVE_RUN_POLL_MS = 1_000;
/** A run whose work is done (progress 100%) while the worker stores its results: seen completed,
 * and its charts read, within a quarter of a second. A short phase, so a cheap poll. */
export const FINISHING_RUN_POLL_MS = 250;
/** A run younger than YOUNG_RUN_MS (by its created_at) is asked for every YOUNG_RUN_POLL_MS. */
export const YOUNG_RUN_POLL_MS = 500;
export const YOUNG_RUN_MS = 20_000;

export const swrDefaults: SWRConfiguration = {
  dedupingInterval: 2_000,
  refreshWhenHidden: false,
  refreshWhenOffline: false,
  revalidateOnFocus: true,
  errorRetryCount: 3,
  keepPreviousData: true,
};

/** Read once: a finished run's detail, equity, trades, prices and windows never change. */
export const READ_ONCE: SWRConfiguration = {
  refreshInterval: 0,
  revalidateOnFocus: false,
  revalidateIfStale: false,
};

/** Attempts after the first for a chart's read that failed on its way (no answer, the
 * dashboard's proxy timing out: 502/504, the API's 503 for a cancelled query or a database
 * outage); other failures (404, 422, ...) are not asked again on their own. */
export const CHART_RETRIES = 3;
/** Wait before the first automatic retry; each next one waits twice as long (1, 2, 4 s). */
export const CHART_RETRY_MS = 1_000;

export function isTransient(error: ApiError): boolean {
  return error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504;
}

/** Read once, like READ_ONCE, but a transient failure is retried on its own CHART_RETRIES
 * times before the card's Retry button is the only way, so a chart never waits forever. */
export const CHART_READ: SWRConfiguration<unknown, ApiError> = {
  ...READ_ONCE,
  errorRetryCount: CHART_RETRIES,
  onErrorRetry: (error, _key, _config, revalidate, { retryCount }) => {
    if (!isTransient(error) || retryCount > CHART_RETRIES) return;
    setTimeout(() => void revalidate({ retryCount }), CHART_RETRY_MS * 2 ** (retryCount - 1));
  },
};

type Key<P> = readonly [P, Record<string, unknown> | undefined, Record<string, unknown> | undefined];

/** The SWR cache key of a GET: the one place it is built (hooks and server-read fallbacks). */
export function apiKey<P extends PathsWith<"get">>(
  template: P,
  options: { path?: PathParamsOf<P>; query?: QueryOf<P> } = {},
): Key<P> {
  return [
    template,
    options.path as Record<string, unknown> | undefined,
    options.query as Record<string, unknown> | undefined,
  ];
}

/** GET `template` with `path`/`query`; `null` as the template pauses the hook. */
export function useApi<P extends PathsWith<"get">>(
  template: P | null,
  options: { path?: PathParamsOf<P>; query?: QueryOf<P> } = {},
  config: SWRConfiguration<ResponseOf<P>, ApiError> = {},
): SWRResponse<ResponseOf<P>, ApiError> {
  const key = template === null ? null : apiKey(template, options);
  return useSWR<ResponseOf<P>, ApiError, Key<P> | null>(
    key,
    ([path, pathParams, query]) =>
      api.get(path, { path: pathParams, query } as Parameters<typeof api.get<P>>[1]),
    config,
  );
}

export type Me = ResponseOf<"/v1/auth/me">;
export type MetricsSummary = ResponseOf<"/v1/metrics/summary">;
export type Strategy = ResponseOf<"/v1/strategies/{strategy_id}">;
export type RunPage = ResponseOf<"/v1/runs">;
export type Run = ResponseOf<"/v1/runs/{run_id}">;
export type Equity = ResponseOf<"/v1/runs/{run_id}/equity">;
export type Analytics = ResponseOf<"/v1/runs/{run_id}/analytics">;
export type Trades = ResponseOf<"/v1/runs/{run_id}/trades">;
export type Health = ResponseOf<"/v1/health">;
export type KillSwitch = ResponseOf<"/v1/controls/kill-switch">;
export type OrderRow = ResponseOf<"/v1/orders">["items"][number];
export type OrderDetail = ResponseOf<"/v1/orders/{order_id}">;
export type Reconciliation = ResponseOf<"/v1/reconciliation">[number];
export type AlertRow = ResponseOf<"/v1/alerts">["items"][number];
export type Risk = ResponseOf<"/v1/risk">;
export type AlertCounts = ResponseOf<"/v1/alerts/counts">;
export type ServiceBeat = ResponseOf<"/v1/health/services">["items"][number];
export type ModelPage = ResponseOf<"/v1/models">;
export type ModelRow = ModelPage["items"][number];
export type ModelDetail = ResponseOf<"/v1/models/{model_id}">;

/** Order statuses after which nothing changes an order (quant_domain.orders.TERMINAL_STATUSES). */
export const FINAL_ORDER_STATUSES: readonly string[] = ["filled", "cancelled", "rejected", "expired"];

export function isActive(status: string | undefined): boolean {
  return status === "queued" || status === "running";
}

export const useMe = () => useApi("/v1/auth/me", {}, { refreshInterval: 60_000 });

export const useMetricsSummary = (query: QueryOf<"/v1/metrics/summary">) =>
  useApi("/v1/metrics/summary", { query }, { refreshInterval: FAST_POLL_MS });

export const usePositions = (query: QueryOf<"/v1/positions"> = {}) =>
  useApi("/v1/positions", { query }, { refreshInterval: FAST_POLL_MS });

export const useOrders = (query: QueryOf<"/v1/orders"> = {}) =>
  useApi("/v1/orders", { query }, { refreshInterval: FAST_POLL_MS });

/** One order with its fills and status history; `null` pauses the hook. Polled every 5 s until
 * it reaches a final status, then never again (nothing changes a final order). */
export const useOrder = (id: number | null) =>
  useApi(id === null ? null : "/v1/orders/{order_id}", { path: { order_id: id ?? 0 } }, {
    refreshInterval: (order) => (order && FINAL_ORDER_STATUSES.includes(order.status) ? 0 : FAST_POLL_MS),
  });

/** Each broker account's last reconciliation, polled every 5 s. */
export const useReconciliation = () => useApi("/v1/reconciliation", {}, { refreshInterval: FAST_POLL_MS });

export const useAlerts = (query: QueryOf<"/v1/alerts"> = {}) =>
  useApi("/v1/alerts", { query }, { refreshInterval: FAST_POLL_MS });

/** Unacknowledged alerts by severity, for the header on every page: polled every 5 s. */
/** The model registry: stages change only by an admin's decision, so a slow poll is enough. */
export const useModels = (query: QueryOf<"/v1/models"> = {}) =>
  useApi("/v1/models", { query }, { refreshInterval: SLOW_POLL_MS });

export const useModel = (id: number) =>
  useApi("/v1/models/{model_id}", { path: { model_id: id } }, { refreshInterval: SLOW_POLL_MS });

export const useAlertCounts = () => useApi("/v1/alerts/counts", {}, { refreshInterval: FAST_POLL_MS });

/** The risk policy in force, its limits against their values now, the breakers and the mode
 * history, polled every 5 s (a breaker can trip at any equity point). */
export const useRisk = () => useApi("/v1/risk", {}, { refreshInterval: FAST_POLL_MS });

export const useKillSwitch = () =>
  useApi("/v1/controls/kill-switch", {}, { refreshInterval: FAST_POLL_MS });

/** Every strategy; `enabled` false pauses the hook (no request, no poll). */
export const useStrategies = (enabled = true) =>
  useApi(enabled ? "/v1/strategies" : null, {}, { refreshInterval: SLOW_POLL_MS });

export const useStrategy = (id: string | null) =>
  useApi(id === null ? null : "/v1/strategies/{strategy_id}", { path: { strategy_id: id ?? "" } }, {
    refreshInterval: SLOW_POLL_MS,
  });

export const useRuns = (query: QueryOf<"/v1/runs"> = {}) =>
  useApi("/v1/runs", { query }, { refreshInterval: SLOW_POLL_MS });

/** A run, polled while queued or running (runPollMs) so its charts are read as soon as it is
 * seen completed; a finished run never changes, so no more polls. */
export const useRun = (id: string) =>
  useApi("/v1/runs/{run_id}", { path: { run_id: id } }, {
    refreshInterval: (run) => runPollMs(run),
    // below the polls: the default 2 s deduping would stretch them to 2 s
    dedupingInterval: FINISHING_RUN_POLL_MS / 2,
  });

/** How often a run's page asks for it: never once it finished; every 250 ms once its work is
 * done and the worker stores its results; every 500 ms in its first 20 s (a short backtest is
 * over by then, and its charts should follow its completion closely); else every second. */
export function runPollMs(run: Pick<Run, "status" | "progress" | "created_at"> | undefined, now = Date.now()): number {
  if (run === undefined) return ACTIVE_RUN_POLL_MS;
  if (!isActive(run.status)) return 0;
  if (run.progress >= 0.99) return FINISHING_RUN_POLL_MS;
  return now - Date.parse(run.created_at) < YOUNG_RUN_MS ? YOUNG_RUN_POLL_MS : ACTIVE_RUN_POLL_MS;
}

/** A finished run's equity curve, read once (it never changes; transient failures are retried,
 * CHART_READ); `null` pauses the hook. */
export const useRunEquity = (id: string | null, points = 1000) =>
  useApi(
    id === null ? null : "/v1/runs/{run_id}/equity",
    { path: { run_id: id ?? "" }, query: { points } },
    CHART_READ as SWRConfiguration<Equity, ApiError>,
  );

/** A finished run's statistics from its full stored series (monthly returns, drawdown, rolling
 * Sharpe, exposure, benchmark, a walk-forward's parameter heatmap), read like its equity. */
export const useRunAnalytics = (id: string | null, points = 1000) =>
  useApi(
    id === null ? null : "/v1/runs/{run_id}/analytics",
    { path: { run_id: id ?? "" }, query: { points } },
    CHART_READ as SWRConfiguration<Analytics, ApiError>,
  );

/** A paper (or live) session's equity curve: polled every 5 s while the session runs (its
 * points arrive per step), read once after it ended; `null` pauses the hook. */
export const useSessionEquity = (run: Pick<Run, "id" | "status"> | null, points = 1000) =>
  useApi(
    run === null ? null : "/v1/runs/{run_id}/equity",
    { path: { run_id: run?.id ?? "" }, query: { points } },
    run !== null && isActive(run.status)
      ? { refreshInterval: FAST_POLL_MS }
      : (CHART_READ as SWRConfiguration<Equity, ApiError>),
  );

export const useHealth = () => useApi("/v1/health", {}, { refreshInterval: SLOW_POLL_MS });

/** Each service instance's last heartbeat (ok / missing / stopped) and metrics endpoint. */
export const useServiceBeats = () => useApi("/v1/health/services", {}, { refreshInterval: SLOW_POLL_MS });
