"use client";
import Link from "next/link";
import { Fragment, useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Input, Select } from "@/components/ui/input";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import { useOrders, useStrategies } from "@/lib/api/hooks";
import { dateTime, money } from "@/lib/format";
import { OrderDetails } from "./order-details";
import { ORDER_STATUSES, orderStatusTone, units } from "./order-status";
import { SessionSelect } from "./session-select";

export const ORDERS_PER_PAGE = 25;
export const EMPTY_ORDERS = "No orders yet - they appear once a strategy trades in paper or live mode";

/** Orders of the paper sessions (all, or the one chosen), newest first, polled every 5 s; a row opens to its fills and status
 * history. Refused orders show the risk rule's code and its words. */
export function OrdersTable({ perPage = ORDERS_PER_PAGE }: { perPage?: number }) {
  const [page, setPage] = useState(1);
  const [strategy, setStrategy] = useState("");
  const [session, setSession] = useState("");
  const [status, setStatus] = useState("");
  const [symbol, setSymbol] = useState("");
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const symbolFilter = symbol.trim().toUpperCase();
  const { data, error, mutate } = useOrders({
    run_id: session || undefined,
    run_type: session ? undefined : "paper",
    strategy: strategy || undefined,
    symbol: symbolFilter || undefined,
    status: status || undefined,
    page,
    per_page: perPage,
  });
  const strategies = useStrategies();
  const filtered = session !== "" || strategy !== "" || status !== "" || symbolFilter !== "";

  const refilter = (apply: () => void) => {
    apply();
    setPage(1);
  };
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div>
      <div className="flex flex-wrap items-end gap-3 border-b border-slate-100 px-4 py-3" role="group" aria-label="order filters">
        <SessionSelect value={session} onChange={(id) => refilter(() => setSession(id))} />
        <label className="text-xs text-slate-600">
          Strategy
          <Select className="h-9" aria-label="strategy" value={strategy} onChange={(e) => refilter(() => setStrategy(e.target.value))}>
            <option value="">all strategies</option>
            {(strategies.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.id}
              </option>
            ))}
          </Select>
        </label>
        <label className="text-xs text-slate-600">
          Status
          <Select className="h-9" aria-label="status" value={status} onChange={(e) => refilter(() => setStatus(e.target.value))}>
            <option value="">any status</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </label>
        <label className="text-xs text-slate-600">
          Symbol
          <Input
            aria-label="symbol"
            placeholder="e.g. SPY"
            value={symbol}
            onChange={(e) => refilter(() => setSymbol(e.target.value))}
            className="h-9 w-32"
          />
        </label>
      </div>

      {error && !data ? (
        <ErrorState what="orders" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={3} label="Loading orders" />
      ) : data.total === 0 ? (
        <EmptyState title={filtered ? "No orders match these filters" : EMPTY_ORDERS}>
          {filtered ? "Clear a filter to see more." : "A strategy moves to paper mode from its page (admins)."}
        </EmptyState>
      ) : (
        <>
          <Table aria-label="orders">
            <thead>
              <tr>
                <Th>Submitted</Th>
                <Th>Symbol</Th>
                <Th>Strategy</Th>
                <Th>Side</Th>
                <Th className="text-right">Quantity</Th>
                <Th className="text-right">Filled</Th>
                <Th className="text-right">Avg fill</Th>
                <Th>Status</Th>
                <Th>Why</Th>
                <Th>
                  <span className="sr-only">details</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((o) => {
                const expanded = open.has(o.id);
                return (
                  <Fragment key={o.id}>
                    <tr data-testid="order-row" data-status={o.status}>
                      <Td className="whitespace-nowrap text-xs text-slate-600">{dateTime(o.submitted_at)}</Td>
                      <Td className="font-medium">{o.symbol}</Td>
                      <Td>
                        <Link className="text-sky-700 hover:underline" href={`/strategies/${encodeURIComponent(o.strategy_id)}`}>
                          {o.strategy_id}
                        </Link>
                      </Td>
                      <Td>{o.side}</Td>
                      <Td className="tabular text-right">{units(o.quantity)}</Td>
                      <Td className="tabular text-right">{units(o.filled_quantity)}</Td>
                      <Td className="tabular text-right">{money(o.fill_price)}</Td>
                      <Td>
                        <Badge tone={orderStatusTone(o.status)}>{o.status}</Badge>
                        {o.code ? <span className="ml-1 font-mono text-xs text-red-700">{o.code}</span> : null}
                      </Td>
                      <Td className="max-w-[14rem] truncate text-xs text-slate-600" title={o.reason}>
                        {o.reason || "—"}
                      </Td>
                      <Td>
                        <button
                          type="button"
                          className="rounded border px-2 py-0.5 text-xs text-slate-700 hover:bg-slate-50"
                          aria-expanded={expanded}
                          aria-label={`fills and history of order ${o.id}`}
                          onClick={() => toggle(o.id)}
                        >
                          {expanded ? "Hide" : "Details"}
                        </button>
                      </Td>
                    </tr>
                    {expanded ? (
                      <tr>
                        <td colSpan={10} className="border-b border-slate-100 bg-slate-50">
                          <OrderDetails orderId={o.id} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </tbody>
          </Table>
          <Pager page={data.page} perPage={data.per_page} total={data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}
