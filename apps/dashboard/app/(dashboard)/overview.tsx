"use client";
import Link from "next/link";
import { useMemo, useState } from "react";
import { SWRConfig, unstable_serialize } from "swr";
import { severityTone } from "@/components/alert-severity";
import { LineChart } from "@/components/charts/lazy";
import { growthLines } from "@/components/runs/compare-series";
import { capitalText } from "@/components/runs/run-facts";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { headlineBasisShort, headlineBasisText } from "@/components/strategies/run-metrics";
import { MODES } from "@/components/strategies/mode";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import { Table, Td, Th } from "@/components/ui/table";
import { apiKey, useAlerts, useMetricsSummary } from "@/lib/api/hooks";
import type { QueryOf, ResponseOf } from "@/lib/api/client";
import { dateTime, drawdown, money, percent, ratio, signedPercent, toNumber } from "@/lib/format";
import { OVERVIEW_ALERTS_QUERY, OVERVIEW_DEFAULTS } from "./overview-query";

type Summary = QueryOf<"/v1/metrics/summary">;
type Headline = ResponseOf<"/v1/metrics/summary">["strategies"][number];
const PERIODS = ["1d", "1w", "1m", "3m", "1y", "all"] as const;

export interface OverviewData {
  summary: ResponseOf<"/v1/metrics/summary"> | null;
  alerts: ResponseOf<"/v1/alerts"> | null;
}

/** The overview, starting from what the server already read (the keys match the hooks' own). */
export function Overview({ initial }: { initial?: OverviewData }) {
  const fallback: Record<string, unknown> = {};
  if (initial?.summary) {
    fallback[unstable_serialize(apiKey("/v1/metrics/summary", { query: { ...OVERVIEW_DEFAULTS } }))] = initial.summary;
  }
  if (initial?.alerts) {
    fallback[unstable_serialize(apiKey("/v1/alerts", { query: { ...OVERVIEW_ALERTS_QUERY } }))] = initial.alerts;
  }
  return (
    <SWRConfig value={{ fallback }}>
      <OverviewBody />
    </SWRConfig>
  );
}

/** "annualised with 252 periods per year (this run's bars)" */
const sharpeNote = (h: Headline) => `annualised with ${Math.round(h.periods_per_year * 100) / 100} periods per year (this run's own bars)`;

/** One strategy's headline over the period: one run's own figures, in its own money. */
function HeadlineRow({ row }: { row: Headline }) {
  const pnl = toNumber(row.pnl);
  return (
    <tr>
      <Td>
        <div className="font-medium">{row.strategy_id}</div>
        <Link href={`/runs/${row.run_id}`} className="font-mono text-xs text-sky-700 hover:underline" title={headlineBasisText({ ...row, type: row.run_type })}>
          {row.run_id.slice(0, 8)}
        </Link>{" "}
        <span className={row.basis === "reference" ? "text-xs text-amber-700" : "text-xs text-slate-500"}>
          {headlineBasisShort(row.basis)}
          {row.label ? ` · ${row.label}` : ""}
        </span>
      </Td>
      <Td className="text-xs whitespace-nowrap text-slate-600">
        {dateTime(row.start).slice(0, 10)} → {dateTime(row.end).slice(0, 10)}
      </Td>
      <Td className="tabular text-right">{capitalText(row.capital)}</Td>
      <Td className={`tabular text-right ${pnl === null ? "" : pnl >= 0 ? "text-emerald-700" : "text-red-700"}`}>{money(row.pnl)}</Td>
      <Td className="tabular text-right">{signedPercent(row.total_return)}</Td>
      <Td className="tabular text-right" title={sharpeNote(row)}>
        {ratio(row.sharpe)}
        <div className="text-[10px] text-slate-400">×√{Math.round(row.periods_per_year)}</div>
      </Td>
      <Td className="tabular text-right">{drawdown(row.max_drawdown)}</Td>
      <Td className="tabular text-right">{percent(row.win_rate, 1)}</Td>
      <Td className="tabular text-right">{row.closed_trades}</Td>
    </tr>
  );
}

function HeadlineTable({ rows, label }: { rows: Headline[]; label: string }) {
  return (
    <Table aria-label={label}>
      <thead>
        <tr>
          <Th>Strategy / headline run</Th>
          <Th>Window</Th>
          <Th className="text-right">Capital</Th>
          <Th className="text-right" title="end equity minus start equity over the window, in this run's own money">
            PnL (own money)
          </Th>
          <Th className="text-right">Return</Th>
          <Th className="text-right" title="each run's Sharpe is annualised with its own periods per year">
            Sharpe
          </Th>
          <Th className="text-right">Max DD</Th>
          <Th className="text-right">Win rate</Th>
          <Th className="text-right">Trades</Th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <HeadlineRow key={row.strategy_id} row={row} />
        ))}
      </tbody>
    </Table>
  );
}

function OverviewBody() {
  const [period, setPeriod] = useState<NonNullable<Summary["period"]>>(OVERVIEW_DEFAULTS.period);
  const [mode, setMode] = useState<NonNullable<Summary["mode"]>>(OVERVIEW_DEFAULTS.mode);
  const summary = useMetricsSummary({ period, mode, points: OVERVIEW_DEFAULTS.points });
  const alerts = useAlerts({ ...OVERVIEW_ALERTS_QUERY });
  const data = summary.data;
  const lines = useMemo(
    () =>
      growthLines([
        ...(data?.strategies ?? []).map((h) => ({ name: h.strategy_id, points: h.equity_curve })),
        ...(data?.benchmarks ?? []).map((h) => ({ name: `${h.strategy_id} (benchmark)`, points: h.equity_curve, benchmark: true })),
      ]),
    [data],
  );
  const shown = (data?.strategies.length ?? 0) + (data?.benchmarks.length ?? 0);

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Overview</h1>
        <div className="flex gap-2">
          <label className="text-xs text-slate-600">
            Mode
            <Select aria-label="mode" value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
              {MODES.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </Select>
          </label>
          <label className="text-xs text-slate-600">
            Period
            <Select aria-label="period" value={period} onChange={(e) => setPeriod(e.target.value as typeof period)}>
              {PERIODS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </Select>
          </label>
        </div>
      </div>

      {summary.error && !data ? (
        <ErrorState what="the performance summary" error={summary.error} onRetry={() => summary.mutate()} />
      ) : !data ? (
        <LoadingRows rows={3} label="Loading the performance summary" />
      ) : (
        <>
          <p className="rounded-lg border border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900" data-testid="aggregate-note">
            {data.aggregate_note}
          </p>
          {shown === 0 ? (
            <EmptyState title={`No ${mode.toLowerCase()} results yet`}>
              {mode === "BACKTEST" ? (
                <>
                  <Link className="text-sky-700 underline" href="/runs/new">
                    Start a backtest
                  </Link>{" "}
                  and its figures appear here when it completes.
                </>
              ) : (
                `No strategy in ${mode} mode has a completed ${mode.toLowerCase()} run.`
              )}
            </EmptyState>
          ) : (
            <>
              <Card data-testid="summary-stats">
                <CardHeader
                  title="Strategies: each its own headline run"
                  description={
                    period === "all"
                      ? "Each row is one run's own stored figures (the same as on its run page), in its own money; nothing is added across runs."
                      : `Each row is the last ${period} of one run's own curve, in its own money; nothing is added across runs.`
                  }
                />
                {data.strategies.length === 0 ? (
                  <EmptyState title="No strategy has a result yet">Only benchmarks have run.</EmptyState>
                ) : (
                  <HeadlineTable rows={data.strategies} label="strategy headlines" />
                )}
              </Card>
              {data.benchmarks.length > 0 ? (
                <Card>
                  <CardHeader title="Benchmarks" description="Buy-and-hold yardsticks, shown apart and never added to the strategies." />
                  <HeadlineTable rows={data.benchmarks} label="benchmark headlines" />
                </Card>
              ) : null}
              <Card>
                <CardHeader
                  title="Equity, each run from 1 at its own start"
                  description="Runs with different capital and dates on one scale: 1.25 is +25 % since that run's start. Benchmarks in grey."
                />
                <CardBody>
                  <LineChart lines={lines} label="headline equity curves" />
                </CardBody>
              </Card>
            </>
          )}
          {data.without_results.length > 0 ? (
            <p className="text-xs text-slate-500">No {mode.toLowerCase()} result yet: {data.without_results.join(", ")}.</p>
          ) : null}
        </>
      )}

      <Card>
        <CardHeader
          title="Recent alerts"
          actions={
            <Link className="text-xs text-sky-700 hover:underline" href="/alerts">
              All alerts
            </Link>
          }
        />
        {alerts.error && !alerts.data ? (
          <ErrorState what="alerts" error={alerts.error} onRetry={() => alerts.mutate()} />
        ) : !alerts.data ? (
          <LoadingRows rows={2} label="Loading alerts" />
        ) : alerts.data.items.length === 0 ? (
          <EmptyState title="No alerts">Risk and monitoring alerts appear here as they are raised.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {alerts.data.items.map((alert) => (
              <li key={alert.id} className="flex items-start gap-3 px-4 py-2 text-sm">
                <Badge tone={severityTone(alert.severity)}>
                  {alert.severity}
                </Badge>
                <span className="flex-1">{alert.message}</span>
                <span className="text-xs text-slate-500">{dateTime(alert.ts)}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
