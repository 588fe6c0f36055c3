"use client";
import Link from "next/link";
import { useMemo, useState } from "react";
import { SWRConfig, unstable_serialize } from "swr";
import { equityLine } from "@/components/charts/equity";
import { LineChart } from "@/components/charts/lazy";
import { Stat } from "@/components/stat";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { MODES } from "@/components/strategies/mode";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import { apiKey, useAlerts, useMetricsSummary } from "@/lib/api/hooks";
import type { QueryOf, ResponseOf } from "@/lib/api/client";
import { dateTime, drawdown, money, percent, ratio, toNumber } from "@/lib/format";
import { OVERVIEW_ALERTS_QUERY, OVERVIEW_DEFAULTS } from "./overview-query";

type Summary = QueryOf<"/v1/metrics/summary">;
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

function OverviewBody() {
  const [period, setPeriod] = useState<NonNullable<Summary["period"]>>(OVERVIEW_DEFAULTS.period);
  const [mode, setMode] = useState<NonNullable<Summary["mode"]>>(OVERVIEW_DEFAULTS.mode);
  const summary = useMetricsSummary({ period, mode, points: OVERVIEW_DEFAULTS.points });
  const alerts = useAlerts({ ...OVERVIEW_ALERTS_QUERY });
  const curve = useMemo(() => equityLine(summary.data?.equity_curve ?? []), [summary.data]);
  const lines = useMemo(() => [{ name: "equity", color: "#0284c7", points: curve }], [curve]);
  const data = summary.data;
  const pnl = toNumber(data?.total_pnl);

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
      ) : data.runs.length === 0 ? (
        <EmptyState title={`No ${mode.toLowerCase()} results yet`}>
          <Link className="text-sky-700 underline" href="/runs/new">
            Start a backtest
          </Link>{" "}
          and its equity appears here when it completes.
        </EmptyState>
      ) : (
        <>
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6" data-testid="summary-stats">
            <Stat label="Total PnL" value={money(data.total_pnl)} tone={pnl === null ? undefined : pnl >= 0 ? "good" : "bad"} />
            <Stat label="Return" value={percent(data.total_return)} />
            <Stat label="Sharpe" value={ratio(data.sharpe)} />
            <Stat label="Max drawdown" value={drawdown(data.max_drawdown)} />
            <Stat label="Win rate" value={percent(data.win_rate, 1)} />
            <Stat label="Closed trades" value={String(data.closed_trades)} />
          </dl>
          <Card>
            <CardHeader
              title="Equity"
              description={`${data.strategies.length} strategies · latest completed run each · ${dateTime(data.start)} → ${dateTime(data.end)}`}
            />
            <CardBody>
              <LineChart lines={lines} label="combined equity curve" />
            </CardBody>
          </Card>
        </>
      )}

      <Card>
        <CardHeader title="Recent alerts" />
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
                <Badge tone={alert.severity === "critical" || alert.severity === "error" ? "bad" : alert.severity === "warning" ? "warn" : "info"}>
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
