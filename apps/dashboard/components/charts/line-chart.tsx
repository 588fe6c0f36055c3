"use client";
import { AreaSeries, LineSeries } from "lightweight-charts";
import { useEffect, useRef } from "react";
import { createThemedChart } from "./theme";
import type { LineSpec } from "./series";

/** Time series on a TradingView Lightweight Charts canvas, one series per line. The canvas keeps
 * 10 years of daily points smooth; the chart follows its container's width. It is rebuilt only
 * when `lines` or `height` change, so callers pass memoised lines and a re-render keeps the zoom. */
export function LineChart({ lines, height = 280, label }: { lines: LineSpec[]; height?: number; label: string }) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createThemedChart(element, height);
    lines.forEach((line) => {
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
    });
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [lines, height]);

  return <div ref={container} role="img" aria-label={label} data-testid="line-chart" style={{ height }} />;
}
