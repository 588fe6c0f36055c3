"use client";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { useServiceBeats, type ServiceBeat } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

const STATE_TONE: Record<ServiceBeat["state"], "good" | "bad" | "neutral"> = { ok: "good", missing: "bad", stopped: "neutral" };

/** Seconds as a short age: "4 s", "3 min", "2 h", "5 d". */
export function age(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function detailText(detail: ServiceBeat["detail"]): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(" ");
}

/** Every service instance's last heartbeat (GET /v1/health/services, polled every 10 s): ok,
 * missing (no beat for three intervals) or stopped (it said so on a clean exit), when it was last
 * seen, and where it serves its Prometheus metrics. */
export function ServicesCard() {
  const { data, error, mutate } = useServiceBeats();
  const missing = data?.items.filter((b) => b.state === "missing").length ?? 0;
  return (
    <Card data-testid="health-services">
      <CardHeader
        title="Services"
        description="Each service instance's heartbeat, stored in PostgreSQL (polled every 10 s): missing after three intervals without one, stopped when it said so on exit."
        actions={
          data ? (
            <Badge tone={data.status === "ok" ? "good" : "bad"}>{data.status === "ok" ? "ok" : `${missing} missing`}</Badge>
          ) : error ? (
            <Badge tone="bad">unknown</Badge>
          ) : null
        }
      />
      {error && !data ? (
        <ErrorState what="the services' heartbeats" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={2} label="Loading the services' heartbeats" />
      ) : data.items.length === 0 ? (
        <EmptyState title="No service has sent a heartbeat yet">Services beat from the moment they start.</EmptyState>
      ) : (
        <Table aria-label="services">
          <thead>
            <tr>
              <Th>Service</Th>
              <Th>Instance</Th>
              <Th>Heartbeat</Th>
              <Th>Last seen</Th>
              <Th>Started</Th>
              <Th>Metrics endpoint</Th>
              <Th>Reports</Th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((beat) => (
              <tr key={`${beat.service}/${beat.instance}`} data-testid="service-row" data-service={beat.service} data-state={beat.state}>
                <Td className="font-medium">{beat.service}</Td>
                <Td className="font-mono text-xs">{beat.instance}</Td>
                <Td>
                  <Badge tone={STATE_TONE[beat.state]}>{beat.state}</Badge>
                </Td>
                <Td className="whitespace-nowrap text-xs" title={dateTime(beat.last_beat)}>
                  {age(beat.age_s)} ago <span className="text-slate-500">(every {age(beat.interval_s)})</span>
                </Td>
                <Td className="whitespace-nowrap text-xs">{dateTime(beat.started_at)}</Td>
                <Td className="font-mono text-xs">
                  {beat.metrics_url ? (
                    <a className="text-sky-700 hover:underline" href={beat.metrics_url} target="_blank" rel="noreferrer">
                      {beat.metrics_url}
                    </a>
                  ) : (
                    <span className="text-slate-500">none announced</span>
                  )}
                </Td>
                <Td className="max-w-[16rem] truncate font-mono text-xs text-slate-600" title={detailText(beat.detail)}>
                  {detailText(beat.detail) || "—"}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Card>
  );
}
