"use client";
import { useMemo } from "react";
import { Bars, ScatterPlot } from "@/components/charts/lazy";
import { Stat } from "@/components/stat";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { money } from "@/lib/format";
import type { Run } from "@/lib/api/hooks";
import { useAllTrades } from "@/lib/api/run-hooks";
import { metricTiles } from "./run-format";
import { useChartsFirst } from "./run-charts";
import { excursionPoints, pnlHistogram, regimeStats } from "./run-stats";

// the charts of a run's curve and statistics live in ./run-charts
export { EQUITY_POINTS, EquityCharts } from "./run-charts";

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

/** How trade PnLs are spread: winners right of zero, losers left. */
export function TradePnlHistogram({ runId }: { runId: string }) {
  const trades = useAllTrades(useChartsFirst(runId) ? runId : null);
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

/** How far each closed trade went against it (MAE) before it ended where it did: losers that
 * never recovered sit bottom-left; winners far left had to sit through deep drawdowns. */
export function TradeExcursionScatter({ runId }: { runId: string }) {
  const trades = useAllTrades(useChartsFirst(runId) ? runId : null);
  const points = useMemo(() => excursionPoints(trades.data?.items ?? []), [trades.data]);
  const shown = points.winners.length + points.losers.length;
  return (
    <Card>
      <CardHeader
        title="Adverse excursion against return"
        description={
          trades.data
            ? `${shown.toLocaleString("en-US")} closed trades${points.skipped ? `; ${points.skipped.toLocaleString("en-US")} open or unmeasured left out` : ""}`
            : undefined
        }
      />
      {trades.error && !trades.data ? (
        <ErrorState what="trades" error={trades.error} onRetry={() => trades.mutate()} />
      ) : !trades.data ? (
        <LoadingRows rows={3} label="Loading trades" />
      ) : shown === 0 ? (
        <EmptyState title="No measured trades">No closed trade of this run carries its excursions.</EmptyState>
      ) : (
        <CardBody>
          <ScatterPlot
            label="trade MAE against return"
            xName="MAE"
            yName="return"
            groups={[
              { name: "winners", color: "#16a34a", points: points.winners },
              { name: "losers", color: "#dc2626", points: points.losers },
            ]}
          />
          <p className="mt-1 text-center text-xs text-slate-500">
            x: maximum adverse excursion, % of the entry price · y: net return, % of the capital the entry committed
          </p>
        </CardBody>
      )}
    </Card>
  );
}

const pct = (fraction: number | null) => (fraction === null ? "n/a" : `${(fraction * 100).toFixed(1)}%`);

/** Closed trades by the market regime when they entered: where the strategy earns and where it bleeds. */
export function TradesByRegime({ runId }: { runId: string }) {
  const trades = useAllTrades(useChartsFirst(runId) ? runId : null);
  const rows = useMemo(() => regimeStats(trades.data?.items ?? []), [trades.data]);
  return (
    <Card>
      <CardHeader
        title="Trades by regime at entry"
        description="the symbol's true range against its calm level, and its trend, from past bars only"
      />
      {trades.error && !trades.data ? (
        <ErrorState what="trades" error={trades.error} onRetry={() => trades.mutate()} />
      ) : !trades.data ? (
        <LoadingRows rows={3} label="Loading trades" />
      ) : rows.length === 0 ? (
        <EmptyState title="No closed trades">Nothing to group: the run closed no round trip.</EmptyState>
      ) : (
        <Table aria-label="trades by regime">
          <thead>
            <tr>
              <Th>Regime</Th>
              <Th className="text-right">Trades</Th>
              <Th className="text-right">Win rate</Th>
              <Th className="text-right">Mean return</Th>
              <Th className="text-right">Mean MAE</Th>
              <Th className="text-right">Net PnL</Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.regime}>
                <Td className="font-medium">{row.regime.replace("_", " ")}</Td>
                <Td className="tabular text-right">{row.trades}</Td>
                <Td className="tabular text-right">{pct(row.winRate)}</Td>
                <Td className="tabular text-right">{pct(row.meanReturn)}</Td>
                <Td className="tabular text-right">{pct(row.meanMae)}</Td>
                <Td className={`tabular text-right ${row.pnl >= 0 ? "text-emerald-700" : "text-red-700"}`}>{money(row.pnl)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}
