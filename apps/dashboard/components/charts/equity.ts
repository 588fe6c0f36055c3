import { type LinePoint, toChartTime } from "./series";

/** Equity points as chart points, one per distinct second (the axis needs increasing times). */
export function equityLine(points: { ts: string; equity: string | number }[]): LinePoint[] {
  const out: LinePoint[] = [];
  for (const point of points) {
    const time = toChartTime(point.ts);
    const value = Number(point.equity);
    if (!Number.isFinite(value)) continue;
    const last = out[out.length - 1];
    if (last && last.time >= time) {
      if (last.time === time) last.value = value;
      continue;
    }
    out.push({ time, value });
  }
  return out;
}

/** The fall from the running peak at each point, as a negative fraction (0 at a new high). */
export function drawdownLine(equity: LinePoint[]): LinePoint[] {
  let peak = -Infinity;
  return equity.map(({ time, value }) => {
    peak = Math.max(peak, value);
    return { time, value: peak > 0 ? value / peak - 1 : 0 };
  });
}
