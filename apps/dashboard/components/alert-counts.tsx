"use client";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { useAlertCounts } from "@/lib/api/hooks";
import { ALERT_SEVERITIES, severityTone } from "./alert-severity";

/** The header's open (unacknowledged) alerts by severity, polled every 5 s; each count opens the
 * Alerts page filtered to it. */
export function AlertCountsBadge() {
  const { data: counts, error } = useAlertCounts();
  if (error && !counts) {
    return (
      <Badge tone="warn" data-testid="alert-counts" title={error.message}>
        alerts: unknown
      </Badge>
    );
  }
  if (!counts) return <Badge data-testid="alert-counts">alerts: …</Badge>;
  if (counts.total === 0) {
    return (
      <Link href="/alerts" data-testid="alert-counts" className="text-xs text-slate-500 hover:underline">
        no open alerts
      </Link>
    );
  }
  return (
    <span data-testid="alert-counts" className="flex items-center gap-1 text-xs" aria-label={`${counts.total} open alerts`}>
      <Link href="/alerts?acknowledged=open" className="text-slate-600 hover:underline">
        open alerts:
      </Link>
      {ALERT_SEVERITIES.filter((s) => counts[s] > 0).map((severity) => (
        <Link key={severity} href={`/alerts?acknowledged=open&severity=${severity}`} data-testid={`alert-count-${severity}`}>
          <Badge tone={severityTone(severity)}>
            {counts[severity]} {severity}
          </Badge>
        </Link>
      ))}
      {counts.other > 0 ? (
        <Link href="/alerts?acknowledged=open" data-testid="alert-count-other">
          <Badge>{counts.other} other</Badge>
        </Link>
      ) : null}
    </span>
  );
}
