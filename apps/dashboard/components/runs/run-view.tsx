"use client";
import Link from "next/link";
import { useState } from "react";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge, statusTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { api, type ApiError } from "@/lib/api/client";
import { isActive, type Run, useMe, useModels, useRun } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { runTypeLabel } from "./run-format";
import { RunExports, RunMarks, RunParams } from "./run-marks";
import { RunParity } from "./run-parity";
import { RunPrices } from "./run-prices";
import { RunProgress } from "./run-progress";
import { RunRepro } from "./run-repro";
import { EquityCharts, MetricTiles, TradeExcursionScatter, TradePnlHistogram, TradesByRegime } from "./run-results";
import { TradesTable } from "./trades-table";
import { WalkForwardSection } from "./walk-forward";

/** One run: live progress while it works, then its results; walk-forward runs add their windows. */
export function RunView({ id }: { id: string }) {
  const run = useRun(id);
  if (run.error && !run.data) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold">Run</h1>
        <ErrorState what={`run ${id}`} error={run.error} onRetry={() => run.mutate()} />
      </div>
    );
  }
  if (!run.data) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold text-slate-400">Run</h1>
        <LoadingRows rows={6} label="Loading the run" />
      </div>
    );
  }
  return <RunDetail run={run.data} onChanged={() => run.mutate()} />;
}

/** What a completed train run produced: the model it registered (ADR 0053). */
function TrainedModel({ runId }: { runId: string }) {
  const { data } = useModels({ run_id: runId });
  const model = data?.items[0];
  return (
    <Card>
      <CardHeader title="Trained model" description="Registered as a candidate by this run." />
      <CardBody className="text-sm">
        {model ? (
          <Link href={`/models/${model.id}`} className="font-medium text-sky-700 hover:underline" data-testid="trained-model">
            {model.name} v{model.version} (#{model.id}) · {model.stage}
          </Link>
        ) : (
          <span className="text-slate-500">{data ? "No model names this run." : "Loading the model…"}</span>
        )}
      </CardBody>
    </Card>
  );
}

function RunDetail({ run, onChanged }: { run: Run; onChanged: () => void }) {
  const active = isActive(run.status);
  const training = run.type === "train";
  const completed = run.status === "completed" && !training;
  return (
    <div className="space-y-5">
      <RunHeader run={run} onChanged={onChanged} />

      <Card>
        <CardBody>
          <RunProgress run={run} />
          {run.cancel_requested && active ? (
            <p className="mt-2 text-xs text-amber-700">Cancel requested: the worker stops at its next step.</p>
          ) : null}
        </CardBody>
      </Card>

      {run.status === "failed" ? (
        <section className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900" data-testid="run-error">
          <h2 className="font-semibold">The run failed</h2>
          <pre className="mt-2 overflow-x-auto font-mono text-xs whitespace-pre-wrap">{run.error ?? "no error text was stored"}</pre>
        </section>
      ) : null}
      {run.status === "cancelled" ? (
        <p className="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900">
          The run was cancelled{run.finished_at ? ` at ${dateTime(run.finished_at)}` : ""}; it has no results.
        </p>
      ) : null}

      {training && run.status === "completed" ? <TrainedModel runId={run.id} /> : null}

      {completed ? (
        <>
          <section aria-label="metrics" className="space-y-2">
            {run.type === "walk_forward" ? (
              <p className="text-xs text-slate-500">Stitched out-of-sample results: each window traded the parameters it chose in sample.</p>
            ) : null}
            <MetricTiles metrics={run.metrics} />
          </section>
          {run.type === "walk_forward" ? <WalkForwardSection runId={run.id} status={run.status} /> : null}
          <EquityCharts runId={run.id} />
          <RunPrices run={run} />
          <div className="grid gap-4 xl:grid-cols-2">
            <TradePnlHistogram runId={run.id} />
            <TradeExcursionScatter runId={run.id} />
          </div>
          <TradesByRegime runId={run.id} />
          <Card>
            <CardHeader title="Trades" />
            <TradesTable runId={run.id} />
          </Card>
        </>
      ) : null}

      {run.type === "walk_forward" && !completed ? <WalkForwardSection runId={run.id} status={run.status} /> : null}

      {/* a paper or live session is compared while it trades; a backtest once it has results */}
      {run.type !== "walk_forward" && !training && (completed || (run.type !== "backtest" && active)) ? <RunParity run={run} /> : null}

      <RunRepro run={run} />
    </div>
  );
}

function RunHeader({ run, onChanged }: { run: Run; onChanged: () => void }) {
  const { data: me } = useMe();
  const canWrite = me !== undefined && (me.role === "trader" || me.role === "admin");
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);

  const cancel = async () => {
    setCancelling(true);
    setCancelError(null);
    try {
      await api.post("/v1/runs/{run_id}/cancel", { path: { run_id: run.id } });
      onChanged();
    } catch (error) {
      setCancelError((error as ApiError).message); // api.* throws only ApiError
    } finally {
      setCancelling(false);
    }
  };

  return (
    <div className="flex flex-wrap items-start justify-between gap-3">
      <div>
        <h1 className="text-xl font-semibold">
          {run.strategy_id ?? "model training"} · {runTypeLabel(run.type)}
        </h1>
        <p className="mt-1 flex flex-wrap items-center gap-2 text-xs text-slate-500">
          <Badge tone={statusTone(run.status)} data-testid="run-status">
            {run.status}
          </Badge>
          <span className="font-mono">{run.id}</span>
          <span>created {dateTime(run.created_at)}</span>
          {run.started_at ? <span>started {dateTime(run.started_at)}</span> : null}
          {run.finished_at ? <span>finished {dateTime(run.finished_at)}</span> : null}
          {run.attempts > 1 ? <span>attempt {run.attempts}</span> : null}
        </p>
        <RunParams run={run} />
        <RunMarks run={run} canEdit={canWrite} onChanged={onChanged} />
      </div>
      <div className="flex items-center gap-2">
        {run.status === "completed" ? (
          <a
            href={`/api/v1/runs/${run.id}/report`}
            target="_blank"
            rel="noopener noreferrer"
            className="inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100"
          >
            HTML report ↗
          </a>
        ) : null}
        {run.status === "completed" && run.type !== "train" ? <RunExports runId={run.id} /> : null}
        {canWrite && isActive(run.status) ? (
          <Button variant="danger" onClick={cancel} disabled={cancelling || run.cancel_requested}>
            {run.cancel_requested ? "Cancelling…" : "Cancel"}
          </Button>
        ) : null}
      </div>
      {cancelError ? (
        <p role="alert" className="w-full text-sm text-red-700">
          Could not cancel: {cancelError}
        </p>
      ) : null}
    </div>
  );
}
