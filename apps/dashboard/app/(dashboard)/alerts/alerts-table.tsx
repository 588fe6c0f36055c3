"use client";
import Link from "next/link";
import { useMemo, useState } from "react";
import { ALERT_SEVERITIES, severityTone } from "@/components/alert-severity";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Select } from "@/components/ui/input";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import { api, type ApiError } from "@/lib/api/client";
import { useAlerts, useMe, type AlertRow, type Me } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

export const ALERTS_PER_PAGE = 25;
export const EMPTY_ALERTS = "No alerts yet - the risk and monitoring services raise them here";
export const VIEWER_CANNOT_ACKNOWLEDGE =
  "You are signed in as a viewer: acknowledging an alert needs the trader or admin role, so there is no Acknowledge button here.";

export type AckFilter = "" | "open" | "acknowledged";

/** Who may acknowledge: the API's rule (trader or admin). */
export function canAcknowledge(role: Me["role"] | undefined): boolean {
  return role === "trader" || role === "admin";
}

function acknowledgedBy(alert: AlertRow, me: Me | undefined): string {
  if (alert.acknowledged_by === null) return "a user since removed";
  return me && alert.acknowledged_by === me.id ? "you" : `user #${alert.acknowledged_by}`;
}

/** The figures behind an alert as `key=value` pairs. */
export function contextText(context: Record<string, unknown>): string {
  return Object.entries(context)
    .map(([key, value]) => `${key}=${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(" ");
}

/** Every alert, newest first, filtered by severity and acknowledgement, polled every 5 s; a
 * trader or admin acknowledges one from its row, or selects open ones and acknowledges them at
 * once; a viewer is told why there is no button. */
export function AlertsTable({
  perPage = ALERTS_PER_PAGE,
  initialSeverity = "",
  initialAcknowledged = "",
}: {
  perPage?: number;
  initialSeverity?: string;
  initialAcknowledged?: AckFilter;
}) {
  const [page, setPage] = useState(1);
  const [severity, setSeverity] = useState(initialSeverity);
  const [status, setStatus] = useState<AckFilter>(initialAcknowledged);
  const [busy, setBusy] = useState<number | "selected" | null>(null);
  const [failure, setFailure] = useState<{ id: number | "selected"; error: ApiError } | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [outcome, setOutcome] = useState<string | null>(null);
  const { data, error, mutate } = useAlerts({
    severity: severity || undefined,
    acknowledged: status === "" ? undefined : status === "acknowledged",
    page,
    per_page: perPage,
  });
  const { data: me } = useMe();
  const allowed = canAcknowledge(me?.role);
  const filtered = severity !== "" || status !== "";

  // only open alerts shown on this page can stay selected (a poll may have closed some)
  const open = useMemo(() => (data?.items ?? []).filter((a) => a.acknowledged_at === null).map((a) => a.id), [data]);
  const chosen = open.filter((id) => selected.has(id));
  const allChosen = open.length > 0 && chosen.length === open.length;

  const refilter = (apply: () => void) => {
    apply();
    setPage(1);
    setSelected(new Set());
  };
  const turnPage = (next: number) => {
    setPage(next);
    setSelected(new Set());
  };
  const toggle = (id: number) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const acknowledgeSelected = async () => {
    if (chosen.length === 0) return;
    setBusy("selected");
    setFailure(null);
    setOutcome(null);
    try {
      const result = await api.post("/v1/alerts/acknowledge", { body: { ids: chosen } });
      setOutcome(
        `Acknowledged ${result.acknowledged.length}` +
          (result.already.length > 0 ? `; ${result.already.length} had been acknowledged already by someone else` : "") +
          ".",
      );
      setSelected(new Set());
    } catch (caught) {
      setFailure({ id: "selected", error: caught as ApiError }); // api.* throws only ApiError
    } finally {
      setBusy(null);
      await mutate();
    }
  };

  const acknowledge = async (alert: AlertRow) => {
    setBusy(alert.id);
    setFailure(null);
    setOutcome(null);
    try {
      await api.patch("/v1/alerts/{alert_id}/acknowledge", { path: { alert_id: alert.id } });
    } catch (caught) {
      setFailure({ id: alert.id, error: caught as ApiError }); // api.* throws only ApiError
    } finally {
      setBusy(null);
      // a 409 means someone else was first: the fresh listing shows who
      await mutate();
    }
  };

  return (
    <div>
      <div className="flex flex-wrap items-end gap-3 border-b border-slate-100 px-4 py-3" role="group" aria-label="alert filters">
        <label className="text-xs text-slate-600">
          Severity
          <Select className="h-9" aria-label="severity" value={severity} onChange={(e) => refilter(() => setSeverity(e.target.value))}>
            <option value="">any severity</option>
            {ALERT_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </label>
        <label className="text-xs text-slate-600">
          Acknowledged
          <Select
            className="h-9"
            aria-label="acknowledged"
            value={status}
            onChange={(e) => refilter(() => setStatus(e.target.value as AckFilter))}
          >
            <option value="">open and acknowledged</option>
            <option value="open">open only</option>
            <option value="acknowledged">acknowledged only</option>
          </Select>
        </label>
      </div>

      {me && !allowed ? (
        <p role="note" data-testid="acknowledge-denied" className="border-b border-slate-100 bg-slate-50 px-4 py-2 text-xs text-slate-600">
          {VIEWER_CANNOT_ACKNOWLEDGE}
        </p>
      ) : null}

      {allowed && data && data.total > 0 ? (
        <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-4 py-2 text-xs" role="group" aria-label="selected alerts">
          <Button
            variant="secondary"
            className="px-2 py-0.5 text-xs"
            disabled={chosen.length === 0 || busy !== null}
            onClick={() => void acknowledgeSelected()}
          >
            Acknowledge selected ({chosen.length})
          </Button>
          <span className="text-slate-500">Select open alerts on this page with their boxes.</span>
          {outcome ? (
            <span aria-live="polite" data-testid="acknowledge-outcome" className="text-emerald-700">
              {outcome}
            </span>
          ) : null}
          {failure?.id === "selected" ? (
            <span role="alert" className="text-red-700">
              {failure.error.message}
            </span>
          ) : null}
        </div>
      ) : null}

      {error && !data ? (
        <ErrorState what="alerts" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={3} label="Loading alerts" />
      ) : data.total === 0 ? (
        <EmptyState title={filtered ? "No alerts match these filters" : EMPTY_ALERTS}>
          {filtered ? "Clear a filter to see more." : "A breaker tripping, a service going quiet or a run failing raises one."}
        </EmptyState>
      ) : (
        <>
          <Table aria-label="alerts">
            <thead>
              <tr>
                {allowed ? (
                  <Th className="w-8">
                    <input
                      type="checkbox"
                      aria-label="select every open alert on this page"
                      checked={allChosen}
                      disabled={open.length === 0}
                      onChange={() => setSelected(allChosen ? new Set() : new Set(open))}
                    />
                  </Th>
                ) : null}
                <Th>Raised</Th>
                <Th>Severity</Th>
                <Th>Source</Th>
                <Th>Message</Th>
                <Th>Acknowledged</Th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((alert) => (
                <tr key={alert.id} data-testid="alert-row" data-alert-id={alert.id} data-acknowledged={alert.acknowledged_at !== null}>
                  {allowed ? (
                    <Td className="w-8">
                      {alert.acknowledged_at === null ? (
                        <input
                          type="checkbox"
                          aria-label={`select alert ${alert.id}`}
                          checked={selected.has(alert.id)}
                          onChange={() => toggle(alert.id)}
                        />
                      ) : null}
                    </Td>
                  ) : null}
                  <Td className="whitespace-nowrap text-xs text-slate-600">{dateTime(alert.ts)}</Td>
                  <Td>
                    <Badge tone={severityTone(alert.severity)}>{alert.severity}</Badge>
                  </Td>
                  <Td className="font-mono text-xs">{alert.source}</Td>
                  <Td className="text-sm">
                    {alert.title ? <p className="font-medium">{alert.title}</p> : null}
                    <p>{alert.message}</p>
                    {alert.context && Object.keys(alert.context).length > 0 ? (
                      <p className="mt-0.5 font-mono text-xs text-slate-500" data-testid="alert-context">
                        {contextText(alert.context)}
                      </p>
                    ) : null}
                    {alert.strategy_id || alert.run_id ? (
                      <p className="mt-0.5 space-x-2 text-xs">
                        {alert.strategy_id ? (
                          <Link className="text-sky-700 hover:underline" href={`/strategies/${encodeURIComponent(alert.strategy_id)}`}>
                            {alert.strategy_id}
                          </Link>
                        ) : null}
                        {alert.run_id ? (
                          <Link className="font-mono text-sky-700 hover:underline" href={`/runs/${alert.run_id}`}>
                            run {alert.run_id.slice(0, 8)}
                          </Link>
                        ) : null}
                      </p>
                    ) : null}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    {alert.acknowledged_at !== null ? (
                      <span className="text-slate-600">
                        {dateTime(alert.acknowledged_at)} by {acknowledgedBy(alert, me)}
                      </span>
                    ) : allowed ? (
                      <Button
                        variant="secondary"
                        className="px-2 py-0.5 text-xs"
                        disabled={busy === alert.id || busy === "selected"}
                        aria-label={`Acknowledge alert ${alert.id}`}
                        onClick={() => void acknowledge(alert)}
                      >
                        Acknowledge
                      </Button>
                    ) : (
                      <Badge tone="warn">open</Badge>
                    )}
                    {failure?.id === alert.id ? (
                      <p role="alert" className="mt-1 max-w-[16rem] whitespace-normal text-red-700">
                        {failure.error.message}
                      </p>
                    ) : null}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager page={data.page} perPage={data.per_page} total={data.total} onPage={turnPage} />
        </>
      )}
    </div>
  );
}
