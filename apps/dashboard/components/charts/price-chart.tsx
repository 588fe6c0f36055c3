"use client";
import {
  CandlestickSeries,
  createSeriesMarkers,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import { createThemedChart } from "./theme";
import type { Candle, Marker } from "./series";

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
    const chart = createThemedChart(element, height);
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
