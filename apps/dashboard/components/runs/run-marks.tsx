"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { api, type ApiError } from "@/lib/api/client";
import type { Run } from "@/lib/api/hooks";
import { paramFacts } from "./run-facts";

type Marked = Pick<Run, "id" | "strategy_id" | "status" | "type" | "label" | "is_reference">;

/** The run's label and its star as its strategy's reference run. Traders and admins change them
 * (PATCH /v1/runs/{id}, audited); viewers see them. Only a completed backtest or walk-forward can
 * be the reference: the button says why it is missing otherwise. */
export function RunMarks({ run, canEdit, onChanged }: { run: Marked; canEdit: boolean; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(run.label ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const starrable = run.status === "completed" && (run.type === "backtest" || run.type === "walk_forward");

  const save = async (body: { label?: string | null; is_reference?: boolean }) => {
    setBusy(true);
    setError(null);
    try {
      await api.patch("/v1/runs/{run_id}", { path: { run_id: run.id }, body });
      setEditing(false);
      onChanged();
    } catch (failure) {
      setError((failure as ApiError).message); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-1" data-testid="run-marks">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        {run.is_reference ? (
          <span className="font-medium text-amber-700" data-testid="reference-mark">
            ★ {run.strategy_id}&apos;s reference run: its headline everywhere
          </span>
        ) : null}
        {canEdit && starrable ? (
          <Button variant="secondary" disabled={busy} onClick={() => save({ is_reference: !run.is_reference })}>
            {run.is_reference ? "Unstar" : "☆ Star as reference"}
          </Button>
        ) : null}
        {canEdit && !starrable && run.status === "completed" ? (
          <span className="text-xs text-slate-500">
            {run.type === "train" ? "A training run has no strategy to be the reference of." : "Paper and live runs cannot be a strategy's reference."}
          </span>
        ) : null}
      </div>
      {editing ? (
        <form
          className="flex flex-wrap items-center gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void save({ label: text.trim() === "" ? null : text.trim() });
          }}
        >
          <Input aria-label="run label" className="w-72" maxLength={120} value={text} onChange={(e) => setText(e.target.value)} />
          <Button type="submit" disabled={busy}>
            Save label
          </Button>
          <Button type="button" variant="ghost" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </form>
      ) : (
        <p className="flex items-center gap-2 text-sm">
          {run.label ? (
            <span data-testid="run-label" className="font-medium text-slate-800">
              “{run.label}”
            </span>
          ) : (
            <span className="text-slate-400">no label</span>
          )}
          {canEdit ? (
            <button
              type="button"
              className="text-xs text-sky-700 underline"
              onClick={() => {
                setText(run.label ?? "");
                setEditing(true);
              }}
            >
              {run.label ? "edit label" : "add a label"}
            </button>
          ) : null}
        </p>
      )}
      {error ? (
        <p role="alert" className="text-sm text-red-700">
          Could not save: {error}
        </p>
      ) : null}
    </div>
  );
}

/** The params the run used, the request's overrides marked with *. */
export function RunParams({ run }: { run: Pick<Run, "config" | "params_overrides"> }) {
  const params = (run.config?.["params"] ?? {}) as Record<string, unknown>;
  const facts = paramFacts(params, run.params_overrides);
  if (facts.length === 0) return null;
  return (
    <p className="font-mono text-xs text-slate-600" data-testid="run-params">
      {facts.map((f) => `${f.name}=${f.value}${f.overridden ? "*" : ""}`).join("  ")}
      {run.params_overrides === null ? (
        <span className="font-sans text-slate-400"> (overrides not recorded)</span>
      ) : Object.keys(run.params_overrides).length > 0 ? (
        <span className="font-sans text-slate-400"> (* set by this run&apos;s request)</span>
      ) : null}
    </p>
  );
}

/** Download links for the run's full trades and equity series (CSV from the API, not the charts'
 * downsampled points). */
export function RunExports({ runId }: { runId: string }) {
  const link = "inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100";
  return (
    <>
      <a href={`/api/v1/runs/${runId}/trades.csv`} download className={link}>
        Trades CSV
      </a>
      <a href={`/api/v1/runs/${runId}/equity.csv`} download className={link}>
        Equity CSV
      </a>
    </>
  );
}
