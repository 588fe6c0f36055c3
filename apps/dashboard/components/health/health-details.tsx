import Link from "next/link";
import { Badge, statusTone } from "@/components/ui/badge";
import { Table, Td, Th } from "@/components/ui/table";
import type { Health } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

function latency(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : `${ms.toFixed(1)} ms`;
}

/** What one /v1/health answer says: the API, its database and Redis, workers and the queue. */
export function HealthDetails({ health }: { health: Health }) {
  const workers = health.workers;
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-sm md:grid-cols-4">
        <div>
          <dt className="text-xs text-slate-500">API</dt>
          <dd>
            <Badge tone={statusTone(health.status)}>{health.status}</Badge>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Version</dt>
          <dd className="font-mono text-xs">
            {health.version} · {health.git_hash}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">API time</dt>
          <dd className="text-xs">{dateTime(health.time)}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Queue</dt>
          <dd className="text-xs" data-testid="queue">
            {health.queue ? `${health.queue.queued} queued · ${health.queue.running} running` : "unknown (database down)"}
          </dd>
        </div>
      </dl>

      <Table aria-label="dependencies">
        <thead>
          <tr>
            <Th>Dependency</Th>
            <Th>Status</Th>
            <Th className="text-right">Latency</Th>
            <Th>Error</Th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              ["PostgreSQL", health.database],
              ["Redis", health.redis],
            ] as const
          ).map(([name, dep]) => (
            <tr key={name}>
              <Td className="font-medium">{name}</Td>
              <Td>
                <Badge tone={statusTone(dep.status)}>{dep.status}</Badge>
              </Td>
              <Td className="tabular text-right">{latency(dep.latency_ms)}</Td>
              <Td className="text-xs text-red-700">{dep.error ?? ""}</Td>
            </tr>
          ))}
        </tbody>
      </Table>

      <div>
        <h3 className="mb-1 flex items-center gap-2 text-sm font-semibold">
          Workers
          <Badge tone={workers.status === "ok" ? "good" : workers.status === "none" ? "warn" : "neutral"}>
            {workers.status === "ok"
              ? `${workers.count ?? workers.items.length} alive`
              : workers.status === "none"
                ? "none alive"
                : "unknown"}
          </Badge>
        </h3>
        {workers.status === "none" ? (
          <p className="text-xs text-slate-600">
            No worker is running: runs wait in the queue until one starts (<code>quant worker</code>).
          </p>
        ) : workers.status === "unknown" ? (
          <p className="text-xs text-slate-600">Workers announce themselves in Redis, which did not answer.</p>
        ) : (
          <Table aria-label="workers">
            <thead>
              <tr>
                <Th>Host</Th>
                <Th className="text-right">PID</Th>
                <Th>Started</Th>
                <Th>Last seen</Th>
                <Th className="text-right">Concurrency</Th>
                <Th>Current runs</Th>
              </tr>
            </thead>
            <tbody>
              {workers.items.map((worker) => (
                <tr key={worker.id}>
                  <Td className="font-mono text-xs">{worker.host}</Td>
                  <Td className="tabular text-right">{worker.pid}</Td>
                  <Td className="text-xs">{dateTime(worker.started_at)}</Td>
                  <Td className="text-xs">{new Date(worker.last_seen).toISOString().slice(11, 19)} UTC</Td>
                  <Td className="tabular text-right">{worker.concurrency}</Td>
                  <Td className="text-xs">
                    {worker.current_runs.length === 0
                      ? "idle"
                      : worker.current_runs.map((id) => (
                          <Link key={id} href={`/runs/${id}`} className="mr-2 font-mono text-sky-700 hover:underline">
                            {id.slice(0, 8)}
                          </Link>
                        ))}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </div>
    </div>
  );
}
