"use client";
import Link from "next/link";
import { useMemo } from "react";
import { equityLine } from "@/components/charts/equity";
import { LineChart } from "@/components/charts/lazy";
import type { LinePoint } from "@/components/charts/series";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge, statusTone } from "@/components/ui/badge";
import { Card, CardHeader } from "@/components/ui/card";
import { FAST_POLL_MS, isActive, useApi, useRunEquity, useRuns, useSessionEquity } from "@/lib/api/hooks";
import { dateTime, money, signedPercent } from "@/lib/format";

type RunItem = NonNullable<ReturnType<typeof useRuns>["data"]>["items"][number];
type EquityRead = ReturnType<typeof useRunEquity>;

export const NO_PAPER_SESSION = "No paper session yet";
export const NO_SESSION_POINTS = "This session stored no equity points yet";

/** Start, end and change of an equity curve, from its first and last stored points. */
export function curveFacts(curve: LinePoint[]): { first: number; last: number; change: number | null } | null {
  if (curve.length === 0) return null;
  const first = curve[0]!.value;
  const last = curve[curve.length - 1]!.value;
  return { first, last, change: first > 0 ? last / first - 1 : null };
}

function day(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function Panel({
  title,
  run,
  equity,
  color,
  testId,
  empty,
}: {
  title: string;
  run: RunItem;
  equity: EquityRead;
  color: string;
  testId: string;
  empty: React.ReactNode;
}) {
  const curve = useMemo(() => equityLine(equity.data?.points ?? []), [equity.data]);
  const lines = useMemo(() => [{ name: title, color, points: curve }], [title, color, curve]);
  const facts = curveFacts(curve);
  return (
    <div className="min-w-0 space-y-2" data-testid={testId}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-semibold">{title}</span>
        <Badge tone={statusTone(run.status)}>{run.status}</Badge>
        <Link className="font-mono text-xs text-sky-700 hover:underline" href={`/runs/${run.id}`}>
          {run.id.slice(0, 8)}
        </Link>
        <span className="text-xs text-slate-500">started {dateTime(run.started_at ?? run.created_at)}</span>
      </div>
      {equity.error && !equity.data ? (
        <ErrorState what={`the equity of ${title}`} error={equity.error} onRetry={() => equity.mutate()} />
      ) : !equity.data ? (
        <LoadingRows rows={3} label={`Loading the equity of ${title}`} />
      ) : facts === null ? (
        empty
      ) : (
        <>
          <p className="tabular text-xs text-slate-600" data-testid={`${testId}-facts`}>
            {day(curve[0]!.time)} .. {day(curve[curve.length - 1]!.time)} · {equity.data.total_points.toLocaleString("en-US")} points ·{" "}
            {money(facts.first)} → {money(facts.last)}
            {facts.change === null ? "" : ` (${signedPercent(facts.change)})`}
          </p>
          <LineChart lines={lines} label={`${title} equity`} height={220} />
        </>
      )}
    </div>
  );
}

/** The strategy's latest paper session next to its latest completed backtest: each one's
 * equity as stored (the session's polled while it runs), on its own axis and period. */
export function PaperVsBacktest({ strategyId }: { strategyId: string }) {
  const papers = useRuns({ strategy: strategyId, type: "paper", per_page: 1 });
  const backtests = useRuns({ strategy: strategyId, type: "backtest", status: "completed", per_page: 1 });
  const paper = papers.data?.items[0] ?? null;
  const backtest = backtests.data?.items[0] ?? null;
  const paperEquity = useSessionEquity(paper);
  const backtestEquity = useRunEquity(backtest?.id ?? null);
  const orders = useApi(paper ? "/v1/orders" : null, { query: { run_id: paper?.id, per_page: 1 } }, { refreshInterval: FAST_POLL_MS });
  const paperOrders = paper ? orders.data?.total : undefined;

  const failed = (papers.error && !papers.data) || (backtests.error && !backtests.data);
  return (
    <Card data-testid="paper-vs-backtest">
      <CardHeader
        title="Paper vs backtest"
        description="The latest paper session beside the latest completed backtest, each over its own period; the parity report on a session's run page lines the two up trade by trade."
      />
      {failed ? (
        <ErrorState
          what="the strategy's runs"
          error={(papers.error ?? backtests.error)!}
          onRetry={() => {
            void papers.mutate();
            void backtests.mutate();
          }}
        />
      ) : !papers.data || !backtests.data ? (
        <LoadingRows rows={3} label="Loading the paper session and the backtest" />
      ) : (
        <div className="grid gap-4 p-4 md:grid-cols-2">
          {paper ? (
            <Panel
              title="Paper session"
              run={paper}
              equity={paperEquity}
              color="#7c3aed"
              testId="paper-panel"
              empty={
                <EmptyState title={NO_SESSION_POINTS}>
                  {isActive(paper.status) ? "It is running; its points appear as they are stored. " : ""}
                  {paperOrders === undefined ? "" : `${paperOrders} orders so far — `}
                  <Link className="text-sky-700 underline" href="/orders">
                    see its orders
                  </Link>
                  .
                </EmptyState>
              }
            />
          ) : (
            <EmptyState title={NO_PAPER_SESSION}>
              An admin moves {strategyId} to PAPER (Mode, below); a paper session then trades it on bars as they close
              (today a replay of stored bars: <span className="font-mono">quant trade --mode paper --replay FROM..TO CONFIG</span>).
            </EmptyState>
          )}
          {backtest ? (
            <Panel
              title="Backtest"
              run={backtest}
              equity={backtestEquity}
              color="#0284c7"
              testId="backtest-panel"
              empty={<EmptyState title="This run stored no equity points" />}
            />
          ) : (
            <EmptyState title="No completed backtest yet">
              <Link className="text-sky-700 underline" href="/runs/new">
                Start a backtest
              </Link>{" "}
              of {strategyId}.
            </EmptyState>
          )}
        </div>
      )}
    </Card>
  );
}
