"use client";
import { useMemo } from "react";
import { Bars, LineChart } from "@/components/charts/lazy";
import { drawdownLine, equityLine } from "@/components/charts/equity";
import type { LineSpec } from "@/components/charts/series";
import { Stat } from "@/components/stat";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { type Run, useRunEquity } from "@/lib/api/hooks";
import { useAllTrades } from "@/lib/api/run-hooks";
import { dateTime, percent } from "@/lib/format";
import { metricTiles } from "./run-format";
import { monthlyReturns, pnlHistogram } from "./run-stats";

/** At most this many equity points are asked for: enough for a 10-year daily curve's shape. */
export const EQUITY_POINTS = 1000;

export function MetricTiles({ metrics }: { metrics: Run["metrics"] }) {
  const tiles = metricTiles(metrics);
  if (tiles.length === 0) return <EmptyState title="No metrics stored">The run completed without metrics.</EmptyState>;
  return (
    <dl className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-6" data-testid="run-metrics">
      {tiles.map((tile) => (
        <Stat key={tile.label} label={tile.label} value={tile.value} tone={tile.tone} />
      ))}
    </dl>
  );
}

/** Equity and drawdown of a completed run (server-downsampled, extremes kept) and its monthly returns. */
export function EquityCharts({ runId }: { runId: string }) {
  const equity = useRunEquity(runId, EQUITY_POINTS);
  const curve = useMemo(() => equityLine(equity.data?.points ?? []), [equity.data]);
  const equityLines = useMemo<LineSpec[]>(() => [{ name: "equity", color: "#0284c7", points: curve }], [curve]);
  const drawdownLines = useMemo<LineSpec[]>(
    // in percent, so the axis reads -12.5 rather than -0.125
    () => [
      {
        name: "drawdown %",
        color: "#dc2626",
        points: drawdownLine(curve).map((p) => ({ time: p.time, value: Math.round(p.value * 10_000) / 100 })),
        area: true,
      },
    ],
    [curve],
  );
  const months = useMemo(() => monthlyReturns(equity.data?.points ?? []), [equity.data]);

  if (equity.error && !equity.data) {
    return (
      <Card>
        <ErrorState what="the equity curve" error={equity.error} onRetry={() => equity.mutate()} />
      </Card>
    );
  }
  if (!equity.data) {
    return (
      <Card>
        <LoadingRows rows={4} label="Loading the equity curve" />
      </Card>
    );
  }
  if (curve.length === 0) {
    return (
      <Card>
        <EmptyState title="No equity points stored">The worker writes the curve when the run completes.</EmptyState>
      </Card>
    );
  }
  const shown = equity.data.points.length;
  const first = equity.data.points[0]?.ts;
  const last = equity.data.points[shown - 1]?.ts;
  return (
    <>
      <Card>
        <CardHeader
          title="Equity"
          description={`${dateTime(first)} → ${dateTime(last)} · ${shown.toLocaleString("en-US")} of ${equity.data.total_points.toLocaleString("en-US")} points (downsampled, extremes kept)`}
        />
        <CardBody>
          <LineChart lines={equityLines} label="equity curve" height={300} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Drawdown" description="Fall from the running peak, in percent" />
        <CardBody>
          <LineChart lines={drawdownLines} label="drawdown" height={180} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Monthly returns" description="Each calendar month's change in equity (UTC)" />
        <CardBody>
          {months.length === 0 ? (
            <p className="text-sm text-slate-500">Not enough points for a month.</p>
          ) : (
            <Bars data={months} label="monthly returns" format={(n) => percent(n, 1)} valueName="return" />
          )}
        </CardBody>
      </Card>
    </>
  );
}

/** How trade PnLs are spread: winners right of zero, losers left. */
export function TradePnlHistogram({ runId }: { runId: string }) {
  const trades = useAllTrades(runId);
  const bins = useMemo(() => pnlHistogram((trades.data?.items ?? []).map((t) => Number(t.pnl))), [trades.data]);
  return (
    <Card>
      <CardHeader
        title="Trade PnL distribution"
        description={
          trades.data
            ? trades.data.total > trades.data.items.length
              ? `first ${trades.data.items.length.toLocaleString("en-US")} of ${trades.data.total.toLocaleString("en-US")} trades`
              : `${trades.data.total.toLocaleString("en-US")} trades, by PnL`
            : undefined
        }
      />
      {trades.error && !trades.data ? (
        <ErrorState what="trades" error={trades.error} onRetry={() => trades.mutate()} />
      ) : !trades.data ? (
        <LoadingRows rows={3} label="Loading trades" />
      ) : bins.length === 0 ? (
        <EmptyState title="No trades">Nothing to distribute: the run made no round trips.</EmptyState>
      ) : (
        <CardBody>
          <Bars data={bins} label="trade PnL histogram" format={(n) => String(Math.round(n))} valueName="trades" />
          <p className="mt-1 text-center text-xs text-slate-500">PnL per trade (each bar labelled by the lower edge of its bucket)</p>
        </CardBody>
      )}
    </Card>
  );
}
