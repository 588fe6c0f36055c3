import type { Metadata } from "next";
import { ALERT_SEVERITIES } from "@/components/alert-severity";
import { Card, CardHeader } from "@/components/ui/card";
import { AlertsTable, type AckFilter } from "./alerts-table";

export const metadata: Metadata = { title: "Alerts" };

type Search = Promise<Record<string, string | string[] | undefined>>;

/** `?severity=critical&acknowledged=open` (the header's counts link here) sets the first filters. */
export default async function AlertsPage({ searchParams }: { searchParams: Search }) {
  const search = await searchParams;
  const severity = typeof search["severity"] === "string" && (ALERT_SEVERITIES as readonly string[]).includes(search["severity"]) ? search["severity"] : "";
  const acknowledged: AckFilter = search["acknowledged"] === "open" || search["acknowledged"] === "acknowledged" ? search["acknowledged"] : "";
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Alerts</h1>
      <Card>
        <CardHeader
          title="Alerts"
          description="What the risk and monitoring services raised, newest first (polled every 5 s). Acknowledging one records who did it and when; it does not undo what the alert reports."
        />
        {/* a new link from the header starts from its own filters */}
        <AlertsTable key={`${severity}|${acknowledged}`} initialSeverity={severity} initialAcknowledged={acknowledged} />
      </Card>
    </div>
  );
}
