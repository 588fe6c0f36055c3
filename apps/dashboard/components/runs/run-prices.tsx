"use client";
import { useMemo, useState } from "react";
import { PriceChart } from "@/components/charts/lazy";
import {
  type Candle,
  type LineSpec,
  type Marker,
  linePoints,
  snapToCandle,
  toCandles,
  toChartTime,
} from "@/components/charts/series";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import type { Run } from "@/lib/api/hooks";
import { type PriceSeries, type Trade, useAllTrades, useRunPrices } from "@/lib/api/run-hooks";
import { useChartsFirst } from "./run-charts";

/** Bars asked for: a 10-year daily series fits whole; longer ones are merged on the server. */
export const PRICE_POINTS = 1500;
/** Past this many markers the labels are dropped so the arrows stay readable. */
const LABELLED_MARKERS = 60;

/** The run's universe, then its benchmark when it is not one of them (as the API allows). */
export function runSymbols(config: Record<string, unknown>): string[] {
  const universe = Array.isArray(config["universe"]) ? (config["universe"] as unknown[]).map(String) : [];
  const benchmark = config["benchmark"];
  if (typeof benchmark === "string" && benchmark && !universe.includes(benchmark)) universe.push(benchmark);
  return universe;
}

/** Entry and exit arrows for one symbol's trades, on the candles the chart has. */
export function tradeMarkers(trades: Trade[], symbol: string, candles: Candle[]): Marker[] {
  const mine = trades.filter((t) => t.symbol === symbol);
  const labelled = mine.length * 2 <= LABELLED_MARKERS;
  const markers: Marker[] = [];
  for (const trade of mine) {
    const short = trade.direction.toLowerCase() === "short";
    const entry = snapToCandle(candles, toChartTime(trade.entry_time));
    if (entry !== null) {
      markers.push({
        time: entry,
        position: short ? "aboveBar" : "belowBar",
        shape: short ? "arrowDown" : "arrowUp",
        color: short ? "#d97706" : "#2563eb",
        text: labelled ? (short ? "short" : "buy") : undefined,
      });
    }
    if (trade.exit_time) {
      const exit = snapToCandle(candles, toChartTime(trade.exit_time));
      if (exit !== null) {
        const won = Number(trade.pnl) >= 0;
        markers.push({
          time: exit,
          position: short ? "belowBar" : "aboveBar",
          shape: short ? "arrowUp" : "arrowDown",
          color: won ? "#16a34a" : "#dc2626",
          text: labelled ? (short ? "cover" : "sell") : undefined,
        });
      }
    }
  }
  return markers;
}

const INDICATOR_COLORS = ["#f59e0b", "#7c3aed", "#0ea5e9", "#db2777", "#65a30d"];

/** The strategy's indicators the API computed over every bar (then sampled like the candles). */
export function indicatorLines(indicators: PriceSeries["indicators"]): LineSpec[] {
  return indicators.map((line, i) => ({
    name: line.name,
    color: INDICATOR_COLORS[i % INDICATOR_COLORS.length]!,
    points: linePoints(line.points),
  }));
}

/** What the markers show, in words: the chart draws every trade of the symbol it read (an
 * entry arrow, and an exit arrow once closed), while the run's metrics count closed round
 * trips of every symbol; open positions and other symbols are why the two can differ. */
export function tradeCountText(trades: Trade[], total: number, symbol: string): string {
  const mine = trades.filter((t) => t.symbol === symbol);
  const open = mine.filter((t) => t.status === "open").length;
  const closed = mine.length - open;
  const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
  let text = `${plural(closed, "closed trade")}${open ? ` + ${plural(open, "open position")}` : ""} on ${symbol}`;
  if (total > trades.length) {
    text += ` (markers for the first ${trades.length.toLocaleString("en-US")} of the run's ${total.toLocaleString("en-US")} trades)`;
  } else if (mine.length !== total) {
    text += ` (of the run's ${total.toLocaleString("en-US")} on all its symbols)`;
  }
  return text;
}

/** A run symbol's candles with the strategy's indicators and the run's trades on them; the
 * symbol is selectable. */
export function RunPrices({ run }: { run: Pick<Run, "id" | "config"> }) {
  const symbols = useMemo(() => runSymbols(run.config), [run.config]);
  const [chosen, setChosen] = useState<string | null>(null);
  const symbol = chosen ?? symbols[0] ?? null;
  const ready = useChartsFirst(run.id);
  const prices = useRunPrices(run.id, ready ? symbol : null, PRICE_POINTS);
  const trades = useAllTrades(ready ? run.id : null);
  const candles = useMemo(() => toCandles(prices.data?.bars ?? []), [prices.data]);
  const markers = useMemo(
    () => (symbol === null ? [] : tradeMarkers(trades.data?.items ?? [], symbol, candles)),
    [trades.data, symbol, candles],
  );
  const indicators = useMemo(() => indicatorLines(prices.data?.indicators ?? []), [prices.data]);

  const picker =
    symbols.length > 1 ? (
      <label className="flex items-center gap-2 text-xs text-slate-600">
        Symbol
        <Select className="w-36" aria-label="price symbol" value={symbol ?? ""} onChange={(e) => setChosen(e.target.value)}>
          {symbols.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
      </label>
    ) : null;

  const description =
    prices.data && symbol
      ? `${symbol} · ${prices.data.timeframe} · ${candles.length.toLocaleString("en-US")} of ${prices.data.total_bars.toLocaleString("en-US")} bars` +
        (candles.length < prices.data.total_bars ? " (merged: several trades may share a candle)" : "") +
        (trades.data ? ` · ${tradeCountText(trades.data.items, trades.data.total, symbol)}` : "")
      : symbol ?? undefined;

  return (
    <Card>
      <CardHeader title="Price and trades" description={description} actions={picker} />
      {symbol === null ? (
        <EmptyState title="No symbols in this run's config">The run names no universe to chart.</EmptyState>
      ) : prices.error && !prices.data ? (
        <ErrorState what={`prices of ${symbol}`} error={prices.error} onRetry={() => prices.mutate()} />
      ) : !ready || !prices.data ? (
        <LoadingRows rows={4} label="Loading prices" />
      ) : candles.length === 0 ? (
        <EmptyState title={`No ${symbol} bars to chart`}>
          {prices.data.note ?? "Ingest this symbol's bars (quant data ingest) to see them here."}
        </EmptyState>
      ) : (
        <CardBody>
          <PriceChart candles={candles} lines={indicators} markers={markers} label="price with trades" />
          {prices.data.indicators_note ? <p className="mt-2 text-xs text-amber-700">{prices.data.indicators_note}</p> : null}
          {trades.error && !trades.data ? (
            <p className="mt-2 text-xs text-red-700">Could not load the trade markers: {trades.error.message}</p>
          ) : null}
          <p className="mt-2 flex flex-wrap gap-4 text-xs text-slate-500">
            <span>
              <span className="text-blue-600">▲</span> entry (an open position has no exit yet)
            </span>
            <span>
              <span className="text-emerald-600">▼</span> exit with a gain
            </span>
            <span>
              <span className="text-red-600">▼</span> exit with a loss
            </span>
          </p>
        </CardBody>
      )}
    </Card>
  );
}
