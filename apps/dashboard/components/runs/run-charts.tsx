"use client";
import { useMemo } from "react";
import type { SWRResponse } from "swr";
import { LineChart } from "@/components/charts/lazy";
import { equityLine } from "@/components/charts/equity";
import { MonthlyHeatmap } from "@/components/charts/monthly-heatmap";
import { type LineSpec, linePoints } from "@/components/charts/series";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import type { ApiError } from "@/lib/api/client";
import { type Analytics, CHART_RETRIES, CHART_RETRY_MS, type Equity, isTransient, useRunAnalytics, useRunEquity } from "@/lib/api/hooks";
import { compact, dateTime, percentLabel } from "@/lib/format";

/** Points asked for: enough for a 10-year daily curve's shape (the server keeps the extremes). */
export const EQUITY_POINTS = 1000;
export const ANALYTICS_POINTS = 1000;

const EQUITY_COLOR = "#0284c7";
const BENCHMARK_COLOR = "#64748b";
const sharpeLabel = (value: number) => value.toFixed(2);

/** A chart whose read failed: the API's words, whether it is being asked again, and Retry. */
export function ReadFailed({
  title,
  what,
  read,
}: {
  title: string;
  what: string;
  read: { error: ApiError; isValidating: boolean; mutate: () => unknown };
}) {
  const error = read.error;
  const waits = Array.from({ length: CHART_RETRIES }, (_, k) => (CHART_RETRY_MS * 2 ** k) / 1000).join(", ");
  return (
    <Card data-testid="chart-error">
      <CardHeader title={title} />
      <ErrorState what={what} error={error} onRetry={() => void read.mutate()} />
      <p className="px-4 pb-3 text-xs text-slate-500" aria-live="polite">
        {read.isValidating
          ? "Asking again…"
          : isTransient(error)
            ? `Asked again on its own up to ${CHART_RETRIES} times (after ${waits} s); Retry asks once more now.`
            : "Not asked again on its own: this answer will not change by waiting."}
      </p>
    </Card>
  );
}

function Loading({ title, label }: { title: string; label: string }) {
  return (
    <Card>
      <CardHeader title={title} />
      <LoadingRows rows={4} label={label} />
    </Card>
  );
}

function EquityCard({ equity, analytics }: { equity: SWRResponse<Equity, ApiError>; analytics: SWRResponse<Analytics, ApiError> }) {
  const benchmark = analytics.data?.benchmark ?? null;
  const lines = useMemo<LineSpec[]>(() => {
    const out: LineSpec[] = [{ name: "Strategy", color: EQUITY_COLOR, points: equityLine(equity.data?.points ?? []) }];
    if (benchmark) {
      out.push({
        name: `Buy & hold ${benchmark.symbol ?? "benchmark"}`,
        color: BENCHMARK_COLOR,
        points: linePoints(benchmark.points),
        dashed: true,
      });
    }
    return out;
  }, [equity.data, benchmark]);

  if (equity.error && !equity.data) {
    return <ReadFailed title="Equity" what="the equity curve" read={{ ...equity, error: equity.error }} />;
  }
  if (!equity.data) return <Loading title="Equity" label="Loading the equity curve" />;
  if (equity.data.points.length === 0) {
    return (
      <Card>
        <CardHeader title="Equity" />
        <EmptyState title="No equity points stored">The worker writes the curve when the run completes.</EmptyState>
      </Card>
    );
  }
  const { points, total_points: total } = equity.data;
  const note = benchmark
    ? null
    : analytics.error && !analytics.data
      ? "benchmark not loaded (see below)"
      : analytics.data?.benchmark_note ?? null;
  return (
    <Card data-testid="equity-card">
      <CardHeader
        title="Equity"
        description={`${dateTime(points[0]?.ts)} → ${dateTime(points[points.length - 1]?.ts)} · ${points.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} points (downsampled, extremes kept)${note ? ` · ${note}` : ""}`}
      />
      <CardBody>
        <LineChart lines={lines} label="equity curve" height={300} format={compact} />
      </CardBody>
    </Card>
  );
}

function StatisticsCards({ analytics }: { analytics: SWRResponse<Analytics, ApiError> }) {
  const data = analytics.data;
  const drawdown = useMemo<LineSpec[]>(
    () => [{ name: "drawdown %", color: "#dc2626", points: linePoints(data?.drawdown.points ?? [], 100), area: true }],
    [data],
  );
  const rolling = useMemo<LineSpec[]>(
    () => [{ name: "rolling Sharpe", color: "#7c3aed", points: linePoints(data?.rolling_sharpe.points ?? []) }],
    [data],
  );
  const exposure = useMemo<LineSpec[]>(
    () => [{ name: "gross exposure %", color: "#0d9488", points: linePoints(data?.exposure.points ?? [], 100), area: true }],
    [data],
  );

  if (analytics.error && !data) {
    const read = { ...analytics, error: analytics.error };
    return <ReadFailed title="Drawdown, monthly returns, rolling Sharpe" what="the run's statistics" read={read} />;
  }
  if (!data) {
    return (
      <>
        <Loading title="Drawdown" label="Loading the drawdown" />
        <Loading title="Monthly returns" label="Loading the monthly returns" />
      </>
    );
  }
  const deepest = Math.min(0, ...data.drawdown.points.map((p) => p.value));
  const everyPoint = `from all ${data.total_points.toLocaleString("en-US")} stored points`;
  const exposed = data.exposure.points.some((p) => p.value !== 0);
  return (
    <>
      <Card data-testid="drawdown-card">
        <CardHeader title="Drawdown" description={`Fall from the running peak, in percent, ${everyPoint} · deepest ${percentLabel(Math.round(deepest * 10_000) / 100)}`} />
        <CardBody>
          {data.drawdown.points.length ? <LineChart lines={drawdown} label="drawdown" height={180} format={percentLabel} /> : <p className="text-sm text-slate-500">No points stored.</p>}
        </CardBody>
      </Card>
      <Card data-testid="monthly-card">
        <CardHeader title="Monthly returns" description={`Each calendar month's compounded return (UTC), ${everyPoint}, as the HTML report computes it`} />
        <CardBody>
          {data.monthly_returns.length === 0 ? <p className="text-sm text-slate-500">Not enough points for a month.</p> : <MonthlyHeatmap rows={data.monthly_returns} />}
        </CardBody>
      </Card>
      <Card data-testid="rolling-sharpe-card">
        <CardHeader
          title="Rolling Sharpe"
          description={
            data.rolling_sharpe.window
              ? `Annualised Sharpe of each trailing ${data.rolling_sharpe.window} returns (the HTML report's window), annualised with ${data.periods_per_year ?? "?"} periods a year`
              : "Too few points for a window"
          }
        />
        <CardBody>
          {data.rolling_sharpe.points.length ? <LineChart lines={rolling} label="rolling Sharpe" height={180} format={sharpeLabel} /> : <p className="text-sm text-slate-500">Too few returns for one window.</p>}
        </CardBody>
      </Card>
      <Card data-testid="exposure-card">
        <CardHeader title="Exposure" description="Gross position value over equity at each step, in percent, as the worker stored it" />
        <CardBody>
          {exposed ? (
            <LineChart lines={exposure} label="exposure" height={160} format={percentLabel} />
          ) : (
            <p className="text-sm text-slate-500">Zero at every stored step: the run held nothing, or (a walk-forward) stored no exposure.</p>
          )}
        </CardBody>
      </Card>
    </>
  );
}

/** True once the run's headline charts (equity and statistics) have their answers, or failed.
 * The other cards of a run (prices, trade markers, the PnL histogram) wait for it before they
 * read: a just-completed run's page then asks a busy API for its equity, drawdown and monthly
 * returns first. The hooks share the charts' SWR keys, so this asks nothing more. */
export function useChartsFirst(runId: string): boolean {
  const equity = useRunEquity(runId, EQUITY_POINTS);
  const analytics = useRunAnalytics(runId, ANALYTICS_POINTS);
  const answered = (read: { data?: unknown; error?: unknown }) => read.data !== undefined || read.error !== undefined;
  return answered(equity) && answered(analytics);
}

/** A completed run's equity (server-downsampled, extremes kept) with its benchmark, and the
 * statistics the server computes from every stored point: drawdown, monthly returns, rolling
 * Sharpe, exposure. Each read that fails says so, is retried on its own a few times, and has
 * a Retry button: a card never stays a skeleton. */
export function EquityCharts({ runId }: { runId: string }) {
  const equity = useRunEquity(runId, EQUITY_POINTS);
  const analytics = useRunAnalytics(runId, ANALYTICS_POINTS);
  return (
    <>
      <EquityCard equity={equity} analytics={analytics} />
      <StatisticsCards analytics={analytics} />
    </>
  );
}
