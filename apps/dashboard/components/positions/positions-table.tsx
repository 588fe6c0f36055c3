"use client";
import Link from "next/link";
import { useState } from "react";
import { SessionSelect } from "@/components/orders/session-select";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Input, Select } from "@/components/ui/input";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import { usePositions, useStrategies } from "@/lib/api/hooks";
import { cn } from "@/lib/cn";
import { dateTime, money, toNumber } from "@/lib/format";

export const POSITIONS_PER_PAGE = 25;
export const EMPTY_POSITIONS = "No positions yet - they appear once a strategy trades in paper or live mode";

/** Shares or units, fractional when the broker allows it. */
function quantity(value: number | null): string {
  const n = toNumber(value);
  return n === null ? "—" : n.toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** Money to the cent, without the "-0.00" a closed position's rounding noise would show. */
function pnl(value: number | null | undefined): string {
  const n = toNumber(value);
  if (n === null) return money(value);
  return money(Math.abs(n) < 0.005 ? 0 : n);
}

function pnlClass(value: number | null | undefined): string | undefined {
  const n = toNumber(value);
  if (n === null || Math.abs(n) < 0.005) return undefined;
  return n > 0 ? "text-emerald-700" : "text-red-700";
}

/** Positions kept by paper and live sessions, polled every 5 s, each with the session (run) that
 * holds it. With `strategy` set the table shows that strategy's positions only and hides the
 * strategy and session filters. */
export function PositionsTable({ strategy, perPage = POSITIONS_PER_PAGE }: { strategy?: string; perPage?: number }) {
  const [page, setPage] = useState(1);
  const [chosenStrategy, setChosenStrategy] = useState("");
  const [session, setSession] = useState("");
  const [symbol, setSymbol] = useState("");
  const [openOnly, setOpenOnly] = useState(false);
  const strategyFilter = strategy ?? chosenStrategy;
  const symbolFilter = symbol.trim().toUpperCase();
  const positions = usePositions({
    run_id: session || undefined,
    strategy: strategyFilter || undefined,
    symbol: symbolFilter || undefined,
    open_only: openOnly || undefined,
    page,
    per_page: perPage,
  });
  // only the strategy dropdown reads the list, and a strategy page has none
  const strategies = useStrategies(strategy === undefined);
  // a strategy page's own strategy is not a filter the user chose
  const filtered = session !== "" || chosenStrategy !== "" || symbolFilter !== "" || openOnly;
  const { data, error, mutate } = positions;

  const refilter = (apply: () => void) => {
    apply();
    setPage(1);
  };

  return (
    <div>
      <div className="flex flex-wrap items-end gap-3 border-b border-slate-100 px-4 py-3" role="group" aria-label="position filters">
        {strategy === undefined ? <SessionSelect value={session} onChange={(id) => refilter(() => setSession(id))} /> : null}
        {strategy === undefined ? (
          <label className="text-xs text-slate-600">
            Strategy
            <Select
              className="h-9"
              aria-label="strategy"
              value={chosenStrategy}
              onChange={(event) => refilter(() => setChosenStrategy(event.target.value))}
            >
              <option value="">all strategies</option>
              {(strategies.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.id}
                </option>
              ))}
            </Select>
          </label>
        ) : null}
        <label className="text-xs text-slate-600">
          Symbol
          <Input
            aria-label="symbol"
            placeholder="e.g. SPY"
            value={symbol}
            onChange={(event) => refilter(() => setSymbol(event.target.value))}
            className="h-9 w-32"
          />
        </label>
        <label className="flex items-center gap-1.5 pb-1.5 text-xs text-slate-600">
          <input
            type="checkbox"
            checked={openOnly}
            onChange={(event) => refilter(() => setOpenOnly(event.target.checked))}
          />
          open positions only
        </label>
      </div>

      {error && !data ? (
        <ErrorState what="positions" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={3} label="Loading positions" />
      ) : data.total === 0 ? (
        <EmptyState title={filtered ? "No positions match these filters" : EMPTY_POSITIONS}>
          {filtered ? "Clear a filter to see more." : "A strategy moves to paper mode from its page (admins)."}
        </EmptyState>
      ) : (
        <>
          <Table aria-label="positions">
            <thead>
              <tr>
                <Th>Symbol</Th>
                {strategy === undefined ? <Th>Strategy</Th> : null}
                <Th className="text-right">Quantity</Th>
                <Th className="text-right">Avg cost</Th>
                <Th className="text-right">Last price</Th>
                <Th className="text-right">Market value</Th>
                <Th className="text-right">Unrealised PnL</Th>
                <Th className="text-right">Realised PnL</Th>
                <Th>Session</Th>
                <Th>Updated</Th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.id}>
                  <Td className="font-medium">
                    {p.symbol}
                    {toNumber(p.quantity) === 0 ? (
                      <Badge className="ml-2" title="quantity 0: only its realised PnL remains">
                        closed
                      </Badge>
                    ) : null}
                  </Td>
                  {strategy === undefined ? (
                    <Td>
                      <Link className="text-sky-700 hover:underline" href={`/strategies/${encodeURIComponent(p.strategy_id)}`}>
                        {p.strategy_id}
                      </Link>
                    </Td>
                  ) : null}
                  <Td className="tabular text-right">{quantity(p.quantity)}</Td>
                  <Td className="tabular text-right">{money(p.avg_price)}</Td>
                  <Td className="tabular text-right">{money(p.last_price)}</Td>
                  <Td className="tabular text-right">{pnl(p.market_value)}</Td>
                  <Td className={cn("tabular text-right", pnlClass(p.unrealized_pnl))}>{pnl(p.unrealized_pnl)}</Td>
                  <Td className={cn("tabular text-right", pnlClass(p.realized_pnl))}>{pnl(p.realized_pnl)}</Td>
                  <Td className="text-xs">
                    <Link className="font-mono text-sky-700 hover:underline" href={`/runs/${p.run_id}`} title={p.run_id}>
                      {p.run_id.slice(0, 8)}
                    </Link>
                  </Td>
                  <Td className="text-xs text-slate-600">{dateTime(p.updated_at)}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager page={data.page} perPage={data.per_page} total={data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}
