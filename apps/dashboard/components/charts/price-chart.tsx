"use client";
import { CandlestickSeries, createSeriesMarkers, LineSeries, LineStyle } from "lightweight-charts";
import { useEffect, useRef } from "react";
import { compact } from "@/lib/format";
import { ChartLegend } from "./legend";
import { createThemedChart } from "./theme";
import type { Candle, LineSpec, Marker } from "./series";

/** OHLC candles on a TradingView Lightweight Charts canvas, with lines over them (the strategy's
 * indicators) and markers (trades). The price axis is fitted to what is visible, candles and
 * lines together, and labelled compactly (1.2k, not 1200.00). */
export function PriceChart({
  candles,
  lines = [],
  markers = [],
  height = 340,
  label,
}: {
  candles: Candle[];
  lines?: LineSpec[];
  markers?: Marker[];
  height?: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createThemedChart(element, height, compact);
    const series = chart.addSeries(CandlestickSeries, {
      upColor: "#16a34a",
      downColor: "#dc2626",
      borderVisible: false,
      wickUpColor: "#16a34a",
      wickDownColor: "#dc2626",
    });
    series.setData(candles);
    for (const line of lines) {
      chart
        .addSeries(LineSeries, {
          color: line.color,
          lineWidth: line.dashed ? 1 : 2,
          lineStyle: line.dashed ? LineStyle.Dashed : LineStyle.Solid,
          priceLineVisible: false,
          lastValueVisible: false,
          crosshairMarkerVisible: false,
        })
        .setData(line.points);
    }
    if (markers.length > 0) createSeriesMarkers(series, [...markers].sort((a, b) => a.time - b.time));
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [candles, lines, markers, height]);

  return (
    <div>
      <div ref={container} role="img" aria-label={label} data-testid="price-chart" style={{ height }} />
      {lines.length > 0 ? <ChartLegend items={lines} /> : null}
    </div>
  );
}
