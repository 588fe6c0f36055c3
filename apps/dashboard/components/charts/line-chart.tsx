"use client";
import { AreaSeries, LineSeries, LineStyle } from "lightweight-charts";
import { useEffect, useRef } from "react";
import { compact } from "@/lib/format";
import { createThemedChart } from "./theme";
import { ChartLegend } from "./legend";
import type { LineSpec } from "./series";

/** Time series on a TradingView Lightweight Charts canvas, one series per line, labelled in a
 * legend when there are several. The canvas keeps 10 years of daily points smooth; the chart
 * follows its container's width. It is rebuilt only when `lines`, `height` or `format` change,
 * so callers pass memoised lines (and a module-level format) and a re-render keeps the zoom. */
export function LineChart({
  lines,
  height = 280,
  label,
  format = compact,
}: {
  lines: LineSpec[];
  height?: number;
  label: string;
  /** the price axis' labels; compact numbers (400k, 1.2M) unless given */
  format?: (value: number) => string;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createThemedChart(element, height, format);
    lines.forEach((line) => {
      const series = line.area
        ? chart.addSeries(AreaSeries, {
            lineColor: line.color,
            topColor: `${line.color}55`,
            bottomColor: `${line.color}08`,
            lineWidth: 1,
            title: line.name,
          })
        : chart.addSeries(LineSeries, {
            color: line.color,
            lineWidth: line.dashed ? 1 : 2,
            lineStyle: line.dashed ? LineStyle.Dashed : LineStyle.Solid,
            title: line.name,
          });
      series.setData(line.points);
    });
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [lines, height, format]);

  return (
    <div>
      <div ref={container} role="img" aria-label={label} data-testid="line-chart" style={{ height }} />
      {lines.length > 1 ? <ChartLegend items={lines} /> : null}
    </div>
  );
}
