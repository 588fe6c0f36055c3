/**
 * Chart data and its pure helpers, apart from the chart components: importing these does not
 * pull the chart libraries into a page's first-load JavaScript (the components load lazily,
 * components/charts/lazy.tsx).
 */
import type { SeriesMarker, UTCTimestamp } from "lightweight-charts";

export interface LinePoint {
  time: UTCTimestamp;
  value: number;
}

export interface LineSpec {
  name: string;
  color: string;
  points: LinePoint[];
  /** an area under the line (e.g. a drawdown), else a plain line */
  area?: boolean;
  /** a thin dashed line (a reference such as a benchmark or an indicator band) */
  dashed?: boolean;
}

/** Points of a served line ({ts, value}) on the chart's time axis: one per distinct second, in
 * time order, finite values only. */
export function linePoints(points: { ts: string; value: number }[], scale = 1): LinePoint[] {
  const out: LinePoint[] = [];
  for (const point of points) {
    const value = point.value * scale;
    if (!Number.isFinite(value)) continue;
    const time = toChartTime(point.ts);
    const last = out[out.length - 1];
    if (last && last.time >= time) {
      if (last.time === time) last.value = value;
      continue;
    }
    out.push({ time, value });
  }
  return out;
}

export type Marker = SeriesMarker<UTCTimestamp>;

/** Seconds since the epoch for an ISO timestamp, as lightweight-charts wants its time axis. */
export function toChartTime(iso: string): UTCTimestamp {
  return Math.floor(new Date(iso).getTime() / 1000) as UTCTimestamp;
}

export interface Candle {
  time: UTCTimestamp;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** API bars (decimal strings) as candles, one per distinct second, in time order. */
export function toCandles(
  bars: { ts: string; open: string | number; high: string | number; low: string | number; close: string | number }[],
): Candle[] {
  const out: Candle[] = [];
  for (const bar of bars) {
    const candle = {
      time: toChartTime(bar.ts),
      open: Number(bar.open),
      high: Number(bar.high),
      low: Number(bar.low),
      close: Number(bar.close),
    };
    if (![candle.open, candle.high, candle.low, candle.close].every(Number.isFinite)) continue;
    const last = out[out.length - 1];
    if (last && last.time >= candle.time) continue;
    out.push(candle);
  }
  return out;
}

/** The candle time at or before `time` (markers must sit on a bar the series has). */
export function snapToCandle(candles: Candle[], time: UTCTimestamp): UTCTimestamp | null {
  if (candles.length === 0) return null;
  let lo = 0;
  let hi = candles.length - 1;
  if (time < candles[0]!.time) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (candles[mid]!.time <= time) lo = mid;
    else hi = mid - 1;
  }
  return candles[lo]!.time;
}

