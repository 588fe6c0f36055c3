import type { Metadata } from "next";
import { PositionsTable } from "@/components/positions/positions-table";
import { Card } from "@/components/ui/card";

export const metadata: Metadata = { title: "Positions" };

export default function PositionsPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Positions</h1>
      <Card>
        <PositionsTable />
      </Card>
    </div>
  );
}
