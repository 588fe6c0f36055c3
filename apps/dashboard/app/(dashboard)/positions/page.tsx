import type { Metadata } from "next";
import { PositionsTable } from "@/components/positions/positions-table";
import { ReconciliationCard } from "@/components/reconciliation/reconciliation-card";
import { Card, CardHeader } from "@/components/ui/card";

export const metadata: Metadata = { title: "Positions" };

export default function PositionsPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Positions</h1>
      <Card>
        <CardHeader
          title="Positions"
          description="What each strategy holds in each paper session, valued at the last close the session saw (polled every 5 s)."
        />
        <PositionsTable />
      </Card>
      <ReconciliationCard />
    </div>
  );
}
