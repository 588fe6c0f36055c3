import type { Metadata } from "next";
import { OrdersTable } from "@/components/orders/orders-table";
import { Card, CardHeader } from "@/components/ui/card";

export const metadata: Metadata = { title: "Orders" };

export default function OrdersPage() {
  return (
    <div className="space-y-5">
      <h1 className="text-xl font-semibold">Orders</h1>
      <Card>
        <CardHeader
          title="Orders"
          description="The paper sessions' orders, newest first (polled every 5 s); a backtest's are on its run page. A refused order keeps the risk rule that refused it and why."
        />
        <OrdersTable />
      </Card>
    </div>
  );
}
