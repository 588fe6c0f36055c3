"use client";
import Link from "next/link";
import { useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Label, Select } from "@/components/ui/input";
import { Table, Td, Th } from "@/components/ui/table";
import type { ApiError, ResponseOf } from "@/lib/api/client";
import { isActive, READ_ONCE, type Run, SLOW_POLL_MS, useApi, useRuns } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { runTypeLabel, shortId } from "./run-format";

export type Parity = ResponseOf<"/v1/runs/{run_id}/parity">;
type Verdict = Parity["differences"][number]["verdict"];

/** Runs of the strategy offered as the other side of the comparison. */
export const PARITY_CHOICES = 50;

const VERDICT_TONE: Record<Verdict, "neutral" | "good" | "warn" | "bad" | "info"> = {
  identical: "good",
  "different fill price": "warn",
  rejected: "bad",
  "missed bar": "info",
  "different decision": "bad",
};

/** The parity report of this run against another of its strategy (by default, for a paper session,
 * the latest completed backtest; for a backtest, the latest paper session): "identical", or each
 * difference with its cause. The other run can be picked from the strategy's completed runs. */
export function RunParity({ run }: { run: Run }) {
  const [against, setAgainst] = useState<string>("");
  const others = useRuns({ strategy: run.strategy_id, status: "completed", per_page: PARITY_CHOICES });
  const choices = (others.data?.items ?? []).filter((other) => other.id !== run.id);
  const parity = useApi(
    "/v1/runs/{run_id}/parity",
    { path: { run_id: run.id }, query: against ? { against } : {} },
    // a session still trading is read again as it goes; a finished pair never changes
    isActive(run.status) ? { refreshInterval: SLOW_POLL_MS } : READ_ONCE,
  );

  return (
    <Card aria-label="parity">
      <CardHeader
        title="Parity"
        description="This run lined up order by order with another over the same bars; every difference is named."
        actions={
          <span className="flex items-center gap-2">
            <Label htmlFor="parity-against" className="text-xs">
              Compare with
            </Label>
            <Select id="parity-against" value={against} onChange={(event) => setAgainst(event.target.value)}>
              <option value="">{run.type === "backtest" ? "latest paper session" : "latest backtest"}</option>
              {choices.map((other) => (
                <option key={other.id} value={other.id}>
                  {runTypeLabel(other.type)} · {other.label ?? shortId(other.id)} · {dateTime(other.created_at)}
                </option>
              ))}
            </Select>
          </span>
        }
      />
      <ParityBody parity={parity.data} error={parity.error} onRetry={() => parity.mutate()} picked={against !== ""} />
    </Card>
  );
}

function ParityBody({
  parity,
  error,
  onRetry,
  picked,
}: {
  parity: Parity | undefined;
  error: ApiError | undefined;
  onRetry: () => void;
  picked: boolean;
}) {
  if (error && !picked && error.status === 404) {
    return (
      <EmptyState title="Nothing to compare with">
        {error.message}. Pick a run of the strategy above.
      </EmptyState>
    );
  }
  if (error) return <ErrorState what="the parity report" error={error} onRetry={onRetry} />;
  if (!parity) return <LoadingRows rows={3} label="Lining the runs up" />;
  return (
    <CardBody className="space-y-3">
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <Badge tone={parity.identical ? "good" : "bad"} data-testid="parity-verdict">
          {parity.identical ? "identical" : "different"}
        </Badge>
        <span>
          against {runTypeLabel(parity.against.type)}{" "}
          <Link className="font-mono text-sky-700 hover:underline" href={`/runs/${parity.against.id}`}>
            {shortId(parity.against.id)}
          </Link>
          : {parity.summary}
        </span>
      </p>
      {parity.notes.map((note) => (
        <p key={note} className="text-xs text-amber-800">
          {note}
        </p>
      ))}
      {parity.differences.length > 0 ? (
        <Table aria-label="parity differences">
          <thead>
            <tr>
              <Th>Bar</Th>
              <Th>Verdict</Th>
              <Th>Symbol</Th>
              <Th>Order</Th>
              <Th>What differs</Th>
            </tr>
          </thead>
          <tbody>
            {parity.differences.map((line, k) => (
              <tr key={`${line.client_order_id}-${line.decided_at}-${k}`}>
                <Td className="text-xs whitespace-nowrap">{dateTime(line.decided_at)}</Td>
                <Td>
                  <Badge tone={VERDICT_TONE[line.verdict]}>{line.verdict}</Badge>
                </Td>
                <Td>{line.symbol || "—"}</Td>
                <Td className="font-mono text-xs">{line.client_order_id || "step"}</Td>
                <Td className="text-xs">{line.detail}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {parity.truncated ? (
        <p className="text-xs text-slate-500">
          The first {parity.differences.length} differences are shown; `quant parity` lists them all.
        </p>
      ) : null}
    </CardBody>
  );
}
