"use client";
import { useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import { useTradePage } from "@/lib/api/run-hooks";
import { dateTime, money, toNumber } from "@/lib/format";

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;

export const TRADES_PER_PAGE = 25;

/** A completed run's round-trip trades, a page at a time. A position still held at the end is an
 * open trade: labelled open, no exit, its PnL marked at the run's last close and shown unrealised. */
export function TradesTable({ runId }: { runId: string }) {
  const [page, setPage] = useState(1);
  const trades = useTradePage(runId, page, TRADES_PER_PAGE);

  if (trades.error && !trades.data) return <ErrorState what="trades" error={trades.error} onRetry={() => trades.mutate()} />;
  if (!trades.data) return <LoadingRows rows={5} label="Loading trades" />;
  if (trades.data.total === 0) {
    return (
      <EmptyState title="No trades">The strategy never opened and closed a position over this run.</EmptyState>
    );
  }
  return (
    <>
      <Table aria-label="trades">
        <thead>
          <tr>
            <Th>Symbol</Th>
            <Th>Side</Th>
            <Th className="text-right">Qty</Th>
            <Th>Entry</Th>
            <Th className="text-right">Entry price</Th>
            <Th>Exit</Th>
            <Th className="text-right">Exit price</Th>
            <Th className="text-right">Bars</Th>
            <Th className="text-right" title="maximum favourable / adverse excursion while held, % of the entry price">
              MFE / MAE
            </Th>
            <Th className="text-right">Fees</Th>
            <Th className="text-right">PnL</Th>
          </tr>
        </thead>
        <tbody>
          {trades.data.items.map((trade) => {
            const pnl = toNumber(trade.pnl) ?? 0;
            const open = trade.status === "open";
            return (
              <tr key={trade.trade_id} className="hover:bg-slate-50">
                <Td className="font-medium">{trade.symbol}</Td>
                <Td>
                  <Badge tone={trade.direction.toLowerCase() === "short" ? "warn" : "info"}>{trade.direction.toLowerCase()}</Badge>
                </Td>
                <Td className="tabular text-right">{money(trade.quantity, 0)}</Td>
                <Td className="text-xs whitespace-nowrap">{dateTime(trade.entry_time)}</Td>
                <Td className="tabular text-right">{money(trade.entry_price)}</Td>
                <Td className="text-xs whitespace-nowrap">
                  {open ? (
                    <span className="flex items-center gap-1.5" title="still held when the run ended; valued at its last close">
                      <Badge tone="neutral">open</Badge>
                      <span className="text-slate-500">held at the end</span>
                    </span>
                  ) : (
                    dateTime(trade.exit_time)
                  )}
                </Td>
                <Td className="tabular text-right">{money(trade.exit_price)}</Td>
                <Td className="tabular text-right">{trade.bars_held}</Td>
                <Td className="tabular text-right text-xs whitespace-nowrap">
                  {trade.excursion_pct.mfe === null || trade.excursion_pct.mae === null ? (
                    <span className="text-slate-400" title="stored before excursions were measured">n/a</span>
                  ) : (
                    `${percent(trade.excursion_pct.mfe)} / ${percent(trade.excursion_pct.mae)}`
                  )}
                </Td>
                <Td className="tabular text-right">{money(trade.commission)}</Td>
                <Td className="tabular text-right font-medium">
                  <span className={`${pnl >= 0 ? "text-emerald-700" : "text-red-700"}${open ? " italic" : ""}`}>{money(trade.pnl)}</span>
                  {open ? <span className="ml-1 text-xs font-normal text-slate-500">unrealised</span> : null}
                </Td>
              </tr>
            );
          })}
        </tbody>
      </Table>
      <Pager page={trades.data.page} perPage={trades.data.per_page} total={trades.data.total} onPage={setPage} />
    </>
  );
}
