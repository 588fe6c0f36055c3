"use client";
import { useEffect } from "react";
import { Stat } from "@/components/stat";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { GridHeatmap } from "@/components/charts/grid-heatmap";
import { isActive, useRunAnalytics } from "@/lib/api/hooks";
import { useRunWindows, type WalkForwardWindow, type WalkForwardWindows } from "@/lib/api/run-hooks";
import { percent, ratio } from "@/lib/format";
import { ANALYTICS_POINTS, ReadFailed } from "./run-charts";

const DAY_MS = 86_400_000;
const dayMs = (iso: string) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);

/** `fast=20, slow=50` */
export function paramsText(params: Record<string, unknown> | null | undefined): string {
  if (!params || Object.keys(params).length === 0) return "—";
  return Object.entries(params)
    .map(([name, value]) => `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** One line on how to read each overfitting statistic, given its value. */
export function readingGuide(stat: "pbo" | "dsr" | "efficiency", value: number | null | undefined): string {
  if (value === null || value === undefined) return "Not computed: too little data or a single combination.";
  switch (stat) {
    case "pbo":
      return value < 0.2
        ? "Low: the in-sample winner rarely falls to the bottom half out of sample."
        : value < 0.5
          ? "Moderate: the in-sample winner often disappoints out of sample."
          : "High: choosing by in-sample score is no better than chance; likely overfit.";
    case "dsr":
      return value >= 0.95
        ? "Strong: the out-of-sample Sharpe is very likely real after counting every trial."
        : value >= 0.5
          ? "Inconclusive: some evidence of skill, not enough after the trials tried (want ≥ 0.95)."
          : "Weak: the Sharpe is what luck over this many trials would give.";
    case "efficiency":
      return value >= 0.5
        ? "Out-of-sample scores kept a good share of the in-sample ones (≥ 0.5 is healthy)."
        : value > 0
          ? "Out-of-sample scores fell well below in-sample ones: optimisation may be fitting noise."
          : "Out-of-sample scores went the other way: the in-sample choice did not carry over.";
  }
}

function Timeline({ windows }: { windows: WalkForwardWindow[] }) {
  const start = Math.min(...windows.map((w) => dayMs(w.in_sample_start)));
  const end = Math.max(...windows.map((w) => dayMs(w.out_of_sample_end) + DAY_MS));
  const span = Math.max(DAY_MS, end - start);
  const at = (iso: string) => ((dayMs(iso) - start) / span) * 100;
  const width = (from: string, to: string) => ((dayMs(to) + DAY_MS - dayMs(from)) / span) * 100;
  return (
    <div data-testid="walk-forward-timeline" className="space-y-1">
      <div className="mb-2 flex gap-4 text-xs text-slate-500">
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-4 rounded-sm bg-slate-300" /> in sample (choose)
        </span>
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-4 rounded-sm bg-emerald-500" /> out of sample (trade)
        </span>
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-4 rounded-sm bg-amber-300" /> skipped (cash)
        </span>
      </div>
      {windows.map((w) => (
        <div key={w.index} className="flex items-center gap-2">
          <span className="tabular w-8 shrink-0 text-right text-xs text-slate-500">#{w.index}</span>
          <div className="relative h-3.5 flex-1 rounded bg-slate-50">
            <div
              className="absolute top-0 h-full rounded-l bg-slate-300"
              style={{ left: `${at(w.in_sample_start)}%`, width: `${width(w.in_sample_start, w.in_sample_end)}%` }}
              title={`window ${w.index} in sample ${w.in_sample_start} → ${w.in_sample_end}`}
            />
            <div
              className={`absolute top-0 h-full rounded-r ${w.status === "skipped" ? "bg-amber-300" : "bg-emerald-500"}`}
              style={{ left: `${at(w.out_of_sample_start)}%`, width: `${width(w.out_of_sample_start, w.out_of_sample_end)}%` }}
              title={`window ${w.index} out of sample ${w.out_of_sample_start} → ${w.out_of_sample_end}`}
            />
          </div>
        </div>
      ))}
      <div className="flex justify-between pl-10 text-xs text-slate-500">
        <span>{new Date(start).toISOString().slice(0, 10)}</span>
        <span>{new Date(end - DAY_MS).toISOString().slice(0, 10)}</span>
      </div>
    </div>
  );
}

export function WindowsTable({ windows }: { windows: WalkForwardWindow[] }) {
  return (
    <Table aria-label="walk-forward windows">
      <thead>
        <tr>
          <Th>#</Th>
          <Th>In sample</Th>
          <Th>Out of sample</Th>
          <Th>Chosen params</Th>
          <Th className="text-right">IS score</Th>
          <Th className="text-right">OOS score</Th>
          <Th className="text-right">Trades</Th>
          <Th>Status</Th>
        </tr>
      </thead>
      <tbody>
        {windows.map((w) => (
          <tr key={w.index}>
            <Td className="tabular">{w.index}</Td>
            <Td className="text-xs whitespace-nowrap">
              {w.in_sample_start} → {w.in_sample_end}
            </Td>
            <Td className="text-xs whitespace-nowrap">
              {w.out_of_sample_start} → {w.out_of_sample_end}
            </Td>
            <Td className="font-mono text-xs">{paramsText(w.chosen_params)}</Td>
            <Td className="tabular text-right">{ratio(w.in_sample_score, 3)}</Td>
            <Td
              className={`tabular text-right ${w.out_of_sample_score === null ? "" : w.out_of_sample_score >= 0 ? "text-emerald-700" : "text-red-700"}`}
            >
              {ratio(w.out_of_sample_score, 3)}
            </Td>
            <Td className="tabular text-right">{w.trade_count ?? "—"}</Td>
            <Td>
              <Badge tone={w.status === "ok" ? "good" : "warn"}>{w.status}</Badge>
              {w.reason ? <p className="mt-0.5 max-w-xs text-xs text-slate-500">{w.reason}</p> : null}
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function Statistics({ data }: { data: WalkForwardWindows }) {
  const pbo = data.pbo?.pbo;
  const dsr = data.deflated_sharpe?.dsr;
  const items = [
    {
      label: "PBO (probability of overfitting)",
      value: pbo === undefined ? "—" : percent(pbo, 1),
      guide: readingGuide("pbo", pbo),
      detail: data.pbo ? `${data.pbo.n_combinations.toLocaleString("en-US")} combinations, ${data.pbo.n_splits} splits` : null,
    },
    {
      label: "Deflated Sharpe",
      value: dsr === undefined || dsr === null ? "—" : percent(dsr, 1),
      guide: readingGuide("dsr", dsr),
      detail: data.deflated_sharpe?.n_trials ? `${data.deflated_sharpe.n_trials} trials` : null,
    },
    {
      label: "Walk-forward efficiency",
      value: ratio(data.efficiency),
      guide: readingGuide("efficiency", data.efficiency),
      detail: "mean OOS score / mean IS score",
    },
  ];
  return (
    <div className="grid gap-3 md:grid-cols-3" data-testid="walk-forward-stats">
      {items.map((item) => (
        <div key={item.label}>
          <dl>
            <Stat label={item.label} value={item.value} />
          </dl>
          <p className="mt-1 text-xs text-slate-600">{item.guide}</p>
          {item.detail ? <p className="text-xs text-slate-400">{item.detail}</p> : null}
        </div>
      ))}
    </div>
  );
}

/** The in-sample objective over the parameter grid (the HTML report's heatmap), from the
 * analytics the run page reads anyway (the same SWR key as its charts). */
function ParameterHeatmap({ runId }: { runId: string }) {
  const analytics = useRunAnalytics(runId, ANALYTICS_POINTS);
  if (analytics.error && !analytics.data) {
    return <ReadFailed title="Parameter heatmap" what="the parameter heatmap" read={{ ...analytics, error: analytics.error }} />;
  }
  const surface = analytics.data?.parameter_surface;
  return (
    <Card>
      <CardHeader
        title="Parameter heatmap"
        description={surface ? `In-sample ${surface.objective} over the grid` : undefined}
      />
      {!analytics.data ? (
        <LoadingRows rows={3} label="Loading the parameter heatmap" />
      ) : !surface ? (
        <EmptyState title="No heatmap">The grid varies no parameter.</EmptyState>
      ) : (
        <CardBody>
          <GridHeatmap surface={surface} />
        </CardBody>
      )}
    </Card>
  );
}

/** A walk-forward run's windows: when each chose and traded, what it chose, how it scored. */
export function WalkForwardSection({ runId, status }: { runId: string; status: string }) {
  const windows = useRunWindows(runId);
  // the windows are read once; when the run's status has moved on since (it completed), read them again
  const seen = windows.data?.status;
  const { mutate } = windows;
  useEffect(() => {
    if (seen !== undefined && seen !== status) void mutate();
  }, [seen, status, mutate]);
  let body: React.ReactNode;
  if (windows.error && !windows.data) {
    body = <ErrorState what="the walk-forward windows" error={windows.error} onRetry={() => windows.mutate()} />;
  } else if (!windows.data) {
    body = <LoadingRows rows={4} label="Loading the walk-forward windows" />;
  } else if (windows.data.windows.length === 0) {
    body = (
      <EmptyState title="No windows yet">
        {isActive(status) ? "They appear when the run completes." : "This run stored no walk-forward windows."}
      </EmptyState>
    );
  } else {
    const stability = windows.data.parameter_stability;
    const skipped = windows.data.windows.filter((w) => w.status === "skipped").length;
    body = (
      <div className="space-y-4">
        <Card>
          <CardBody>
            <Statistics data={windows.data} />
          </CardBody>
        </Card>
        <Card>
          <CardHeader
            title="Timeline"
            description={`${windows.data.windows.length} windows${skipped ? `, ${skipped} skipped` : ""}`}
          />
          <CardBody>
            <Timeline windows={windows.data.windows} />
          </CardBody>
        </Card>
        {status === "completed" ? <ParameterHeatmap runId={runId} /> : null}
        <Card>
          <CardHeader title="Chosen parameters and scores" description="Scores are the objective (e.g. Sharpe) in and out of sample" />
          <WindowsTable windows={windows.data.windows} />
        </Card>
        {stability.length > 0 ? (
          <Card>
            <CardHeader title="Parameter stability" description="0 = the choice never moved, 1 = it jumped end to end of the grid" />
            <Table aria-label="parameter stability">
              <thead>
                <tr>
                  <Th>Parameter</Th>
                  <Th className="text-right">Distinct values</Th>
                  <Th className="text-right">Normalised change</Th>
                  <Th>Chosen per window</Th>
                </tr>
              </thead>
              <tbody>
                {stability.map((s) => (
                  <tr key={s.name}>
                    <Td className="font-mono">{s.name}</Td>
                    <Td className="tabular text-right">{s.distinct}</Td>
                    <Td className="tabular text-right">{ratio(s.normalised_change)}</Td>
                    <Td className="font-mono text-xs text-slate-600">
                      {s.values.map((v) => (v === null ? "·" : String(v))).join(" ")}
                    </Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </Card>
        ) : null}
      </div>
    );
  }
  return (
    <section className="space-y-3" aria-labelledby="walk-forward-heading">
      <h2 id="walk-forward-heading" className="text-lg font-semibold">
        Walk-forward windows
      </h2>
      {body}
    </section>
  );
}
