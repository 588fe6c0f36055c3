"use client";
import { Select } from "@/components/ui/input";
import { useRuns } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

/** The paper sessions (runs of type paper), newest first, to narrow a listing to one of them. */
export function SessionSelect({ value, onChange }: { value: string; onChange: (runId: string) => void }) {
  const sessions = useRuns({ type: "paper", per_page: 50 });
  return (
    <label className="text-xs text-slate-600">
      Paper session
      <Select className="h-9" aria-label="paper session" value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">all paper sessions</option>
        {(sessions.data?.items ?? []).map((run) => (
          <option key={run.id} value={run.id}>
            {run.strategy_id} · {run.id.slice(0, 8)} · {dateTime(run.started_at ?? run.created_at)} · {run.status}
          </option>
        ))}
      </Select>
    </label>
  );
}
