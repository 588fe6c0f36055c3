"use client";
import Link from "next/link";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge, statusTone } from "@/components/ui/badge";
import { Table, Td, Th } from "@/components/ui/table";
import { useStrategies } from "@/lib/api/hooks";
import { dateTime, drawdown, percent, ratio } from "@/lib/format";
import { modeTone } from "./mode";
import { headlineBasisShort, headlineBasisText, headlineMetrics } from "./run-metrics";

/** Every strategy with its headline run's figures: its starred reference run, else (said so in
 * the row) its latest completed run; benchmarks are marked. Polled every 10 s. */
export function StrategiesTable() {
  const { data, error, mutate } = useStrategies();

  if (error && !data) return <ErrorState what="strategies" error={error} onRetry={() => mutate()} />;
  if (!data) return <LoadingRows rows={4} label="Loading strategies" />;
  if (data.length === 0)
    return (
      <EmptyState title="No strategies yet">
        Add a strategy YAML to <code>configs/strategies/</code>; the API syncs the folder when it starts.
      </EmptyState>
    );

  return (
    <Table aria-label="strategies">
      <thead>
        <tr>
          <Th>Strategy</Th>
          <Th>Status</Th>
          <Th>Mode</Th>
          <Th>Universe</Th>
          <Th className="text-right">Return</Th>
          <Th className="text-right">Sharpe</Th>
          <Th className="text-right">Max drawdown</Th>
          <Th>Headline run</Th>
        </tr>
      </thead>
      <tbody>
        {data.map((strategy) => {
          const run = strategy.headline_run;
          const m = headlineMetrics(run?.metrics);
          return (
            <tr key={strategy.id} className="hover:bg-slate-50">
              <Td>
                <Link href={`/strategies/${encodeURIComponent(strategy.id)}`} className="font-medium text-sky-700 hover:underline">
                  {strategy.id}
                </Link>
                {strategy.is_benchmark ? (
                  <Badge tone="info" className="ml-2" title="a buy-and-hold yardstick: shown apart, never added to the strategies">
                    benchmark
                  </Badge>
                ) : null}
                <p className="mt-0.5 max-w-md text-xs text-slate-500">{strategy.description}</p>
              </Td>
              <Td>
                <Badge tone={statusTone(strategy.status)}>{strategy.status}</Badge>
              </Td>
              <Td>
                <Badge tone={modeTone(strategy.mode)}>{strategy.mode}</Badge>
              </Td>
              <Td className="text-xs">{strategy.universe.join(", ") || "—"}</Td>
              <Td className="tabular text-right">{run ? percent(m.totalReturn) : "—"}</Td>
              <Td className="tabular text-right">{run ? ratio(m.sharpe) : "—"}</Td>
              <Td className="tabular text-right">{run ? drawdown(m.maxDrawdown) : "—"}</Td>
              <Td className="text-xs text-slate-600">
                {run ? (
                  <>
                    <Link href={`/runs/${run.id}`} className="hover:underline">
                      {dateTime(run.finished_at)} · {run.type}
                    </Link>
                    <div
                      className={run.basis === "reference" ? "text-amber-700" : "text-slate-500"}
                      title={headlineBasisText(run)}
                    >
                      {headlineBasisShort(run.basis)}
                      {run.label ? ` · ${run.label}` : ""}
                    </div>
                  </>
                ) : (
                  "no completed run"
                )}
              </Td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
