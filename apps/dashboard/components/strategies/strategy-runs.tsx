"use client";
import Link from "next/link";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { KeyMetricCells } from "@/components/runs/key-metric-cells";
import { dateRangeText } from "@/components/runs/run-facts";
import { ParamsCell } from "@/components/runs/runs-table";
import { Badge, statusTone } from "@/components/ui/badge";
import { Card, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { useRuns } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

/** The strategy's newest runs, each linking to its page, with what it ran (params, overrides
 * marked, dates), its label and star, and the headline figures the listing carries. */
export function StrategyRuns({ strategyId }: { strategyId: string }) {
  const runs = useRuns({ strategy: strategyId, per_page: 10 });
  const { data, error, mutate } = runs;
  return (
    <Card>
      <CardHeader
        title="Recent runs"
        description={
          data && data.total > data.items.length ? (
            <Link className="text-sky-700 hover:underline" href={`/runs?strategy=${encodeURIComponent(strategyId)}`}>
              all {data.total} runs
            </Link>
          ) : undefined
        }
      />
      {error && !data ? (
        <ErrorState what="this strategy's runs" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={3} label="Loading runs" />
      ) : data.items.length === 0 ? (
        <EmptyState title="No runs yet - start a backtest">
          <Link className="text-sky-700 underline" href="/runs/new">
            New backtest
          </Link>
        </EmptyState>
      ) : (
        <Table aria-label="recent runs">
          <thead>
            <tr>
              <Th>Run</Th>
              <Th>Type</Th>
              <Th>Params / dates</Th>
              <Th>Status</Th>
              <Th>Created</Th>
              <Th>Finished</Th>
              <Th className="text-right">Return</Th>
              <Th className="text-right">Sharpe</Th>
              <Th className="text-right whitespace-nowrap">Max DD</Th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((run) => (
              <tr key={run.id}>
                <Td>
                  <Link className="font-mono text-xs text-sky-700 hover:underline" href={`/runs/${run.id}`}>
                    {run.id.slice(0, 8)}
                  </Link>
                  {run.is_reference ? (
                    <span className="ml-1 text-amber-600" title="the strategy's reference run: its headline" aria-label="reference run">
                      ★
                    </span>
                  ) : null}
                  {run.label ? <div className="max-w-40 text-xs break-words text-slate-700">{run.label}</div> : null}
                </Td>
                <Td className="text-xs">{run.type}</Td>
                <Td>
                  <ParamsCell run={run} />
                  <div className="text-xs whitespace-nowrap text-slate-500">{dateRangeText(run)}</div>
                </Td>
                <Td>
                  <Badge tone={statusTone(run.status)}>
                    {run.status}
                    {run.status === "running" ? ` ${Math.round(run.progress * 100)}%` : ""}
                  </Badge>
                </Td>
                <Td className="text-xs text-slate-600">{dateTime(run.created_at)}</Td>
                <Td className="text-xs text-slate-600">{dateTime(run.finished_at)}</Td>
                <KeyMetricCells metrics={run.key_metrics} />
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}
