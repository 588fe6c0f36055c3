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
