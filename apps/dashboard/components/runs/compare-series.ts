/** Curves of runs with different capital on one chart: each as growth of 1 from its own start. */
import { equityLine } from "@/components/charts/equity";
import type { LinePoint, LineSpec } from "@/components/charts/series";

/** Distinct colours for up to five compared runs; benchmarks are drawn in grey. */
export const RUN_COLOURS = ["#0284c7", "#d97706", "#7c3aed", "#059669", "#db2777"] as const;
export const BENCHMARK_COLOUR = "#64748b";

/** The curve divided by its first value: 1.25 means +25 % since the run's own start, whatever
 * its capital. Empty when the first value is not positive (nothing to divide by). */
export function growthLine(points: { ts: string; equity: string | number }[]): LinePoint[] {
  const line = equityLine(points);
  const first = line[0]?.value;
  if (first === undefined || !(first > 0)) return [];
  return line.map(({ time, value }) => ({ time, value: value / first }));
}

/** One chart line per curve, in the given colours, each from 1 at its own start. */
export function growthLines(
  curves: { name: string; points: { ts: string; equity: string | number }[]; benchmark?: boolean }[],
): LineSpec[] {
  let colour = 0;
  return curves.map((curve) => ({
    name: curve.name,
    color: curve.benchmark ? BENCHMARK_COLOUR : RUN_COLOURS[colour++ % RUN_COLOURS.length]!,
    points: growthLine(curve.points),
  }));
}
