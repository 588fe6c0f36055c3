"use client";
import { PositionsTable } from "@/components/positions/positions-table";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge, statusTone } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { useMe, useStrategy } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { ConfigEditor, ConfigView } from "./config-editor";
import { modeTone } from "./mode";
import { ModeTransition } from "./mode-transition";
import { PaperVsBacktest } from "./paper-vs-backtest";
import { StrategyPerformance } from "./strategy-performance";
import { StrategyRuns } from "./strategy-runs";

/** One strategy: header, latest performance, runs, positions, config and mode (admins edit). */
export function StrategyView({ id }: { id: string }) {
  const strategy = useStrategy(id);
  const me = useMe();
  const isAdmin = me.data?.role === "admin";
  const data = strategy.data;

  return (
    <div className="space-y-5">
      <div>
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="font-mono text-xl font-semibold">{id}</h1>
          {data ? (
            <>
              <Badge tone={statusTone(data.status)} data-testid="strategy-status">
                {data.status}
              </Badge>
              <Badge tone={modeTone(data.mode)} data-testid="strategy-mode">
                {data.mode}
              </Badge>
            </>
          ) : null}
        </div>
        {data ? (
          <p className="mt-1 text-sm text-slate-600">
            {data.description} · {data.universe.join(", ")} · {data.timeframe}
            {data.benchmark ? ` · benchmark ${data.benchmark}` : ""} ·{" "}
            <span className="font-mono text-xs">{data.class_path}</span>
          </p>
        ) : null}
      </div>

      {strategy.error && !data ? (
        <Card>
          <ErrorState what={`strategy ${id}`} error={strategy.error} onRetry={() => strategy.mutate()} />
        </Card>
      ) : !data ? (
        <Card>
          <LoadingRows rows={5} label="Loading the strategy" />
        </Card>
      ) : (
        <>
          <StrategyPerformance strategy={data} />
          <PaperVsBacktest strategyId={id} />
          <StrategyRuns strategyId={id} />
          <Card>
            <CardHeader title="Positions" description="Open and closed positions of this strategy (polled every 5 s)." />
            <PositionsTable strategy={id} perPage={10} />
          </Card>
          <Card>
            <CardHeader title="Mode" description={`Currently ${data.mode}; last change of the strategy ${dateTime(data.updated_at)}.`} />
            <CardBody>
              {isAdmin ? (
                <ModeTransition
                  strategyId={id}
                  mode={data.mode}
                  onChanged={(mode) => void strategy.mutate({ ...data, mode }, { revalidate: true })}
                />
              ) : (
                <p className="text-sm text-slate-600">
                  The strategy is in <Badge tone={modeTone(data.mode)}>{data.mode}</Badge> mode. Only admins can move it
                  between BACKTEST, PAPER and LIVE.
                </p>
              )}
            </CardBody>
          </Card>
          <Card>
            <CardHeader
              title="Config"
              description={isAdmin ? "Params, risk caps and status; saved with PATCH /v1/strategies/{id}." : "Read-only."}
            />
            <CardBody>
              {isAdmin ? (
                <ConfigEditor strategy={data} onSaved={(next) => void strategy.mutate(next, { revalidate: false })} />
              ) : (
                <ConfigView strategy={data} />
              )}
            </CardBody>
          </Card>
        </>
      )}
    </div>
  );
}
