"use client";
import Link from "next/link";
import { useMemo } from "react";
import { drawdownLine, equityLine } from "@/components/charts/equity";
import { LineChart } from "@/components/charts/lazy";
import { Stat } from "@/components/stat";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { type Strategy, useRunEquity } from "@/lib/api/hooks";
import { dateTime, drawdown, percent, ratio } from "@/lib/format";
import { headlineBasisText, headlineMetrics, headlineNote } from "./run-metrics";

/** The strategy's headline run (its starred reference run, else its latest completed one, said
 * so under the title): its headline metrics, equity curve and drawdown. */
export function StrategyPerformance({ strategy }: { strategy: Strategy }) {
  const run = strategy.headline_run;
  const equity = useRunEquity(run?.id ?? null);
  const curve = useMemo(() => equityLine(equity.data?.points ?? []), [equity.data]);
  const equityLines = useMemo(() => [{ name: "equity", color: "#0284c7", points: curve }], [curve]);
  const drawdownLines = useMemo(
    () => [{ name: "drawdown", color: "#dc2626", points: drawdownLine(curve), area: true }],
    [curve],
  );

  if (!run)
    return (
      <Card>
        <CardHeader title="Performance" />
        <EmptyState title="No completed run yet">
          <Link className="text-sky-700 underline" href="/runs/new">
            Start a backtest
          </Link>{" "}
          of {strategy.id}; its equity curve and metrics appear here when it completes.
        </EmptyState>
      </Card>
    );

  const m = headlineMetrics(run.metrics);
  return (
    <Card>
      <CardHeader
        title="Performance"
        description={
          <>
            <span data-testid="headline-basis" className={run.basis === "reference" ? "text-amber-700" : undefined}>
              {headlineBasisText(run)}
            </span>
            , finished {dateTime(run.finished_at)} ·{" "}
            <Link className="text-sky-700 hover:underline" href={`/runs/${run.id}`}>
              open the run
            </Link>
            {run.basis === "latest_completed" ? " · star a run on its page to fix the headline" : ""}
          </>
        }
      />
      <CardBody className="space-y-4">
        <dl className="grid grid-cols-2 gap-3 md:grid-cols-4" data-testid="strategy-stats">
          <Stat
            label="Return"
            value={percent(m.totalReturn)}
            tone={m.totalReturn === null ? undefined : m.totalReturn >= 0 ? "good" : "bad"}
          />
          <Stat label="Sharpe" value={ratio(m.sharpe)} />
          <Stat label="Max drawdown" value={drawdown(m.maxDrawdown)} />
          <Stat label="Trades" value={m.trades === null ? "—" : String(m.trades)} />
        </dl>
        <p className="text-xs text-slate-500">{headlineNote(run.capital, m.periodsPerYear)}</p>
        {equity.error && !equity.data ? (
          <ErrorState what="the equity curve" error={equity.error} onRetry={() => equity.mutate()} />
        ) : !equity.data ? (
          <LoadingRows rows={4} label="Loading the equity curve" />
        ) : curve.length === 0 ? (
          <EmptyState title="This run stored no equity points" />
        ) : (
          <div className="space-y-3">
            <LineChart lines={equityLines} label="equity curve" />
            <LineChart lines={drawdownLines} label="drawdown" height={140} />
          </div>
        )}
      </CardBody>
    </Card>
  );
}
