import { ColorType, createChart, type IChartApi } from "lightweight-charts";

/** A Lightweight Charts canvas in the dashboard's look, sized to its container's width. Only the
 * chart components import this (they load on demand, see lazy.tsx). */
export function createThemedChart(element: HTMLElement, height: number): IChartApi {
  return createChart(element, {
    height,
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#334155", fontSize: 11 },
    grid: { vertLines: { color: "#f1f5f9" }, horzLines: { color: "#f1f5f9" } },
    rightPriceScale: { borderColor: "#e2e8f0" },
    timeScale: { borderColor: "#e2e8f0" },
  });
}
