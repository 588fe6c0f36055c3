"use client";
import {
  AreaSeries,
  createSeriesMarkers,
  LineSeries,
  type IChartApi,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import { createThemedChart } from "./theme";
import type { LineSpec, Marker } from "./series";

export type { LinePoint, LineSpec, Marker } from "./series";
export { toChartTime } from "./series";

/** Time series on a TradingView Lightweight Charts canvas (one per line, markers on the first).
 * The canvas keeps 10 years of daily points smooth; the chart follows its container's width. */
export function LineChart({
  lines,
  markers = [],
  height = 280,
  label,
}: {
  lines: LineSpec[];
  markers?: Marker[];
  height?: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createThemedChart(element, height);
    chartRef.current = chart;
    lines.forEach((line, index) => {
      const series = line.area
        ? chart.addSeries(AreaSeries, {
            lineColor: line.color,
            topColor: `${line.color}55`,
            bottomColor: `${line.color}08`,
            lineWidth: 1,
            title: line.name,
          })
        : chart.addSeries(LineSeries, { color: line.color, lineWidth: 2, title: line.name });
      series.setData(line.points);
      if (index === 0 && markers.length > 0) createSeriesMarkers(series, [...markers].sort((a, b) => a.time - b.time));
    });
    chart.timeScale().fitContent();
    return () => {
      chart.remove();
      chartRef.current = null;
    };
  }, [lines, markers, height]);

  return <div ref={container} role="img" aria-label={label} data-testid="line-chart" style={{ height }} />;
}
