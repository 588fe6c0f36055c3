import { ColorType, createChart, type IChartApi } from "lightweight-charts";
import { compact } from "@/lib/format";

/** A Lightweight Charts canvas in the dashboard's look, sized to its container's width, its
 * price axis labelled by `format` (compact by default: 400k, 1.2M, never 400000.00) and fitted to
 * the visible data (the axis does not reach down to 0 unless the data does). Only the chart
 * components import this (they load on demand, see lazy.tsx). */
export function createThemedChart(element: HTMLElement, height: number, format: (value: number) => string = compact): IChartApi {
  return createChart(element, {
    height,
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#334155", fontSize: 11 },
    localization: { priceFormatter: format },
    grid: { vertLines: { color: "#f1f5f9" }, horzLines: { color: "#f1f5f9" } },
    rightPriceScale: { borderColor: "#e2e8f0", autoScale: true, scaleMargins: { top: 0.08, bottom: 0.08 } },
    timeScale: { borderColor: "#e2e8f0" },
  });
}
