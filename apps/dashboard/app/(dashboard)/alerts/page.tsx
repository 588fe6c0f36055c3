import type { Metadata } from "next";
import { Card, CardHeader } from "@/components/ui/card";
import { AlertsTable } from "./alerts-table";

export const metadata: Metadata = { title: "Alerts" };

export default function AlertsPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Alerts</h1>
      <Card>
        <CardHeader
          title="Alerts"
          description="What the risk and monitoring services raised, newest first (polled every 5 s). Acknowledging one records who did it and when; it does not undo what the alert reports."
        />
        <AlertsTable />
      </Card>
    </div>
  );
}
