/** Figures a run page derives from what the API sent: the trade-PnL histogram. Monthly returns
 * come from the server, computed on every stored point (GET /v1/runs/{id}/analytics), never from
 * the downsampled curve, whose month ends are often intra-month extremes. */
import type { BarDatum } from "@/components/charts/bars";

const compact = (n: number) =>
  Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(Math.abs(n) >= 10_000 ? 0 : 1)}k` : n.toFixed(0);

/** Trade PnLs in `bins` equal-width buckets (labelled by their lower edge); a bucket straddling
 * zero is split so winners and losers never share a bar. */
export function pnlHistogram(pnls: number[], bins = 20): BarDatum[] {
  const values = pnls.filter(Number.isFinite);
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min === max) return [{ label: compact(min), value: values.length, color: min >= 0 ? "#16a34a" : "#dc2626" }];
  const width = (max - min) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]! += 1;
  return counts.map((count, i) => {
    const lower = min + i * width;
    const mid = lower + width / 2;
    return { label: compact(lower), value: count, color: mid >= 0 ? "#16a34a" : "#dc2626" };
  });
}

/** What the MAE scatter needs of a trade (the API's Trade has more). */
export interface ExcursionTrade {
  symbol: string;
  entry_time: string;
  status: "open" | "closed";
  quantity: number | string;
  entry_price: number | string;
  pnl: number | string;
  excursion_pct: { mfe: number | null; mae: number | null; given_back: number | null };
}

export interface ExcursionPoint {
  x: number;
  y: number;
  name: string;
}

/** Each closed, measured trade as a point: its MAE (x) against its net return (y), both in
 * percent of the capital the entry committed; winners and losers apart. Open trades and trades
 * stored before excursions were measured are left out (and counted in `skipped`). */
export function excursionPoints(trades: ExcursionTrade[]): {
  winners: ExcursionPoint[];
  losers: ExcursionPoint[];
  skipped: number;
} {
  const winners: ExcursionPoint[] = [];
  const losers: ExcursionPoint[] = [];
  let skipped = 0;
  for (const trade of trades) {
    const mae = trade.excursion_pct.mae;
    const basis = Number(trade.quantity) * Number(trade.entry_price);
    if (trade.status !== "closed" || mae === null || !(basis > 0)) {
      skipped += 1;
      continue;
    }
    const point = { x: mae * 100, y: (Number(trade.pnl) / basis) * 100, name: `${trade.symbol} ${trade.entry_time.slice(0, 10)}` };
    (point.y >= 0 ? winners : losers).push(point);
  }
  return { winners, losers, skipped };
}

export const REGIMES = ["bull", "bear", "sideways", "high_volatility"] as const;

export interface RegimeRow {
  regime: string;
  trades: number;
  winRate: number;
  meanReturn: number;
  meanMae: number | null;
  pnl: number;
}

/** Closed trades grouped by the regime at entry (as the HTML report groups them): count, win
 * rate, mean net return and mean MAE (fractions), total net PnL; trades entered while the regime
 * warmed up, or stored before it was measured, are one row "unknown". */
export function regimeStats(trades: (ExcursionTrade & { regime?: string | null })[]): RegimeRow[] {
  const groups = new Map<string, (ExcursionTrade & { regime?: string | null })[]>();
  for (const trade of trades) {
    if (trade.status !== "closed") continue;
    const key = trade.regime ?? "unknown";
    groups.set(key, [...(groups.get(key) ?? []), trade]);
  }
  const order = [...REGIMES, "unknown"];
  return order
    .filter((regime) => groups.has(regime))
    .map((regime) => {
      const chosen = groups.get(regime)!;
      const returns = chosen.map((t) => Number(t.pnl) / (Number(t.quantity) * Number(t.entry_price)));
      const maes = chosen.map((t) => t.excursion_pct.mae).filter((v): v is number => v !== null);
      return {
        regime,
        trades: chosen.length,
        winRate: chosen.filter((t) => Number(t.pnl) > 0).length / chosen.length,
        meanReturn: returns.reduce((a, b) => a + b, 0) / chosen.length,
        meanMae: maes.length ? maes.reduce((a, b) => a + b, 0) / maes.length : null,
        pnl: chosen.reduce((a, t) => a + Number(t.pnl), 0),
      };
    });
}
