"use client";
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { Marker } from "./line-chart";
import { toChartTime } from "./line-chart";

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

/** OHLC candles on a TradingView Lightweight Charts canvas, with markers (e.g. trades) on them. */
export function PriceChart({
  candles,
  markers = [],
  height = 320,
  label,
}: {
  candles: Candle[];
  markers?: Marker[];
  height?: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createChart(element, {
      height,
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#334155", fontSize: 11 },
      grid: { vertLines: { color: "#f1f5f9" }, horzLines: { color: "#f1f5f9" } },
      rightPriceScale: { borderColor: "#e2e8f0" },
      timeScale: { borderColor: "#e2e8f0" },
    });
    const series = chart.addSeries(CandlestickSeries, {
      upColor: "#16a34a",
      downColor: "#dc2626",
      borderVisible: false,
      wickUpColor: "#16a34a",
      wickDownColor: "#dc2626",
    });
    series.setData(candles);
    if (markers.length > 0) createSeriesMarkers(series, [...markers].sort((a, b) => a.time - b.time));
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [candles, markers, height]);

  return <div ref={container} role="img" aria-label={label} data-testid="price-chart" style={{ height }} />;
}
