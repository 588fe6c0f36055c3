"use client";
import { useCallback, useEffect, useState } from "react";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { SLOW_POLL_MS, useHealth, type Health } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { HealthDetails } from "./health-details";
import { ServicesCard } from "./services-card";

type DirectProbe =
  | { state: "pending" }
  | { state: "ok"; health: Health; ms: number; at: string }
  | { state: "failed"; reason: string; at: string };

/** GET `${apiUrl}/v1/health` from the browser itself, without the dashboard server in between.
 * A CORS refusal and an unreachable host look the same to a page script (a TypeError), so the
 * reason names both; an HTTP error answer names its status. */
export async function probeDirect(apiUrl: string, timeoutMs = 5_000): Promise<DirectProbe> {
  const started = performance.now();
  const at = new Date().toISOString();
  try {
    const response = await fetch(`${apiUrl}/v1/health`, {
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return { state: "failed", reason: `HTTP ${response.status} ${response.statusText}`.trim(), at };
    const health = (await response.json()) as Health;
    return { state: "ok", health, ms: performance.now() - started, at };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    const message = error instanceof Error ? error.message : String(error);
    const reason =
      name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1000} s`
        : `${message} - the API's CORS allow-list (QUANT_CORS_ORIGINS) does not include ${window.location.origin}, or the API is not reachable from this browser`;
    return { state: "failed", reason, at };
  }
}

function useDirectProbe(apiUrl: string) {
  const [probe, setProbe] = useState<DirectProbe>({ state: "pending" });
  const run = useCallback(async () => setProbe(await probeDirect(apiUrl)), [apiUrl]);
  useEffect(() => {
    let live = true;
    const tick = async () => {
      if (document.visibilityState === "hidden") return;
      const result = await probeDirect(apiUrl);
      if (live) setProbe(result);
    };
    void tick();
    const timer = window.setInterval(tick, SLOW_POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [apiUrl]);
  return { probe, rerun: run };
}

export function HealthView({ apiUrl }: { apiUrl: string }) {
  const proxied = useHealth();
  const { probe, rerun } = useDirectProbe(apiUrl);

  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Health</h1>

      <Card>
        <CardHeader
          title="Dashboard"
          description="This Next.js server rendered the page, so it is up; every API call from this page goes through it."
          actions={<Badge tone="good">up</Badge>}
        />
      </Card>

      <Card data-testid="health-proxied">
        <CardHeader
          title="API through the dashboard server"
          description="GET /api/v1/health: the browser asks this app, which forwards to the API with your session (polled every 10 s)."
          actions={
            proxied.data ? (
              <Badge tone={proxied.data.status === "ok" ? "good" : "warn"}>{proxied.data.status}</Badge>
            ) : proxied.error ? (
              <Badge tone="bad">unreachable</Badge>
            ) : null
          }
        />
        {proxied.error && !proxied.data ? (
          <ErrorState what="the API's health through the dashboard server" error={proxied.error} onRetry={() => proxied.mutate()} />
        ) : !proxied.data ? (
          <LoadingRows rows={3} label="Loading the API's health" />
        ) : (
          <CardBody>
            {proxied.error ? (
              <p role="alert" className="mb-3 text-xs text-red-700">
                The last check failed ({proxied.error.message}); showing the previous answer.
              </p>
            ) : null}
            <HealthDetails health={proxied.data} />
          </CardBody>
        )}
      </Card>

      <ServicesCard />

      <Card data-testid="health-direct">
        <CardHeader
          title="API directly from this browser"
          description={
            <>
              GET <code>{apiUrl}/v1/health</code> from the page itself: proves the API&apos;s CORS allow-list accepts this
              dashboard&apos;s origin.
            </>
          }
          actions={
            probe.state === "ok" ? (
              <Badge tone="good">reachable · {probe.ms.toFixed(0)} ms</Badge>
            ) : probe.state === "failed" ? (
              <Badge tone="bad">blocked or unreachable</Badge>
            ) : null
          }
        />
        <CardBody>
          {probe.state === "pending" ? (
            <LoadingRows rows={1} label="Probing the API directly" />
          ) : probe.state === "failed" ? (
            <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900">
              <p className="font-semibold">Blocked or unreachable.</p>
              <p className="mt-1">{probe.reason}</p>
              <p className="mt-1 text-xs text-red-700">checked {dateTime(probe.at)}</p>
              <Button variant="secondary" className="mt-3" onClick={() => void rerun()}>
                Retry
              </Button>
            </div>
          ) : (
            <p className="text-sm text-slate-700">
              The API answered <Badge tone={probe.health.status === "ok" ? "good" : "warn"}>{probe.health.status}</Badge>{" "}
              (version {probe.health.version} · {probe.health.git_hash}, database {probe.health.database.status}, Redis{" "}
              {probe.health.redis.status}) in {probe.ms.toFixed(0)} ms, checked {dateTime(probe.at)}.
            </p>
          )}
        </CardBody>
      </Card>
    </div>
  );
}
