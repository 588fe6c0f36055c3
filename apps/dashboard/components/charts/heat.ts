/** Cell colours of the dashboard's heatmaps: red below the midpoint, white at it, green above
 * (the HTML report's RdYlGn reading), with text that stays legible on the darkest cells. */

const RED: [number, number, number] = [200, 30, 30];
const WHITE: [number, number, number] = [255, 255, 255];
const GREEN: [number, number, number] = [22, 128, 61];

function mix(from: [number, number, number], to: [number, number, number], share: number): string {
  const t = Math.max(0, Math.min(1, share));
  const [r, g, b] = from.map((c, i) => Math.round(c + (to[i]! - c) * t));
  return `rgb(${r}, ${g}, ${b})`;
}

/** The background of a cell worth `value` when `limit` (> 0) is the deepest colour; null cells
 * have none. */
export function heatColor(value: number | null | undefined, mid: number, limit: number): string | undefined {
  if (value === null || value === undefined || !Number.isFinite(value) || !(limit > 0)) return undefined;
  const share = Math.min(1, Math.abs(value - mid) / limit);
  return value >= mid ? mix(WHITE, GREEN, share) : mix(WHITE, RED, share);
}

/** White text on the deepest cells, slate elsewhere. */
export function heatInk(value: number | null | undefined, mid: number, limit: number): string {
  if (value === null || value === undefined || !Number.isFinite(value) || !(limit > 0)) return "#64748b";
  return Math.abs(value - mid) / limit > 0.6 ? "#ffffff" : "#0f172a";
}

/** The distance from `mid` that gets the deepest colour: the largest one seen. */
export function heatLimit(values: (number | null | undefined)[], mid: number): number {
  let limit = 0;
  for (const v of values) if (v !== null && v !== undefined && Number.isFinite(v)) limit = Math.max(limit, Math.abs(v - mid));
  return limit;
}
