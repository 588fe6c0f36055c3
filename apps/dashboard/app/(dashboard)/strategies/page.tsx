import type { Metadata } from "next";
import { StrategiesTable } from "@/components/strategies/strategies-table";
import { Card } from "@/components/ui/card";

export const metadata: Metadata = { title: "Strategies" };

export default function StrategiesPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Strategies</h1>
      <Card>
        <StrategiesTable />
      </Card>
    </div>
  );
}
