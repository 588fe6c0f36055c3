"use client";
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import type { Candle, Marker } from "./series";

export type { Candle } from "./series";
export { snapToCandle, toCandles } from "./series";

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
