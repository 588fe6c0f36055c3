import type { Run } from "@/lib/api/hooks";
import { progressPercent } from "./run-format";

/** The run's progress bar with processed/total and the worker's message. */
export function RunProgress({ run }: { run: Pick<Run, "progress" | "processed" | "total" | "message" | "status"> }) {
  const pct = progressPercent(run.progress);
  const bar =
    run.status === "failed" ? "bg-red-500" : run.status === "cancelled" ? "bg-amber-500" : run.status === "completed" ? "bg-emerald-500" : "bg-sky-500";
  return (
    <div className="space-y-1.5">
      <div
        role="progressbar"
        aria-label="run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}%`}
        className="h-2.5 w-full overflow-hidden rounded-full bg-slate-100"
      >
        <div className={`h-full transition-[width] duration-500 ${bar}`} style={{ width: `${pct}%` }} />
      </div>
      <p className="flex justify-between gap-3 text-xs text-slate-600">
        <span data-testid="run-message">{run.message}</span>
        <span className="tabular">
          {pct}% · {run.processed.toLocaleString("en-US")}/{run.total.toLocaleString("en-US")}
        </span>
      </p>
    </div>
  );
}
