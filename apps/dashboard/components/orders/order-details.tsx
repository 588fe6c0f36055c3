"use client";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Table, Td, Th } from "@/components/ui/table";
import { useOrder } from "@/lib/api/hooks";
import { dateTime, money } from "@/lib/format";
import { orderStatusTone, units } from "./order-status";

/** One order's fills and every status it took, with when and why (read from /v1/orders/{id}). */
export function OrderDetails({ orderId }: { orderId: number }) {
  const { data, error, mutate } = useOrder(orderId);
  if (error && !data) return <ErrorState what={`order ${orderId}`} error={error} onRetry={() => mutate()} />;
  if (!data) return <LoadingRows rows={2} label="Loading the order" />;
  return (
    <div className="grid gap-4 p-3 md:grid-cols-2" data-testid={`order-details-${orderId}`}>
      <div>
        <h3 className="mb-1 text-xs font-semibold text-slate-700">
          Fills ({data.fills.length}) · client order id <span className="font-mono">{data.client_order_id}</span>
          {data.broker_order_id ? (
            <>
              {" "}
              · broker id <span className="font-mono">{data.broker_order_id}</span>
            </>
          ) : null}
        </h3>
        {data.fills.length === 0 ? (
          <p className="text-xs text-slate-500">No fills: nothing of this order executed.</p>
        ) : (
          <Table aria-label={`fills of order ${orderId}`}>
            <thead>
              <tr>
                <Th>Executed</Th>
                <Th className="text-right">Quantity</Th>
                <Th className="text-right">Price</Th>
                <Th className="text-right">Commission</Th>
                <Th className="text-right">Slippage</Th>
              </tr>
            </thead>
            <tbody>
              {data.fills.map((fill) => (
                <tr key={fill.id}>
                  <Td className="text-xs">{dateTime(fill.ts)}</Td>
                  <Td className="tabular text-right">{units(fill.quantity)}</Td>
                  <Td className="tabular text-right">{money(fill.price)}</Td>
                  <Td className="tabular text-right">{money(fill.commission)}</Td>
                  <Td className="tabular text-right">{money(fill.slippage)}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </div>
      <div>
        <h3 className="mb-1 text-xs font-semibold text-slate-700">Status history</h3>
        {data.events.length === 0 ? (
          <p className="text-xs text-slate-500">
            No history stored: only paper and live sessions keep one (a backtest&apos;s orders have none).
          </p>
        ) : (
          <ol aria-label={`status history of order ${orderId}`} className="space-y-1 text-xs">
            {data.events.map((event, i) => (
              <li key={i} className="flex flex-wrap items-baseline gap-2">
                <span className="text-slate-500">{dateTime(event.at)}</span>
                <Badge tone={orderStatusTone(event.status)}>{event.status}</Badge>
                {event.code ? <span className="font-mono text-red-700">{event.code}</span> : null}
                {event.reason ? <span className="text-slate-700">{event.reason}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}
