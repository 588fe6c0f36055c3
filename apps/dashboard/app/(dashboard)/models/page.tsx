import type { Metadata } from "next";
import { ModelsTable } from "@/components/models/models-table";
import { Card } from "@/components/ui/card";

export const metadata: Metadata = { title: "Models" };

export default function ModelsPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Models</h1>
      <Card>
        <ModelsTable />
      </Card>
    </div>
  );
}
