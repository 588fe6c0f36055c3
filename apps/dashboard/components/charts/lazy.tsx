"use client";
/**
 * The chart components, loaded on demand: Lightweight Charts (~55 kB gzipped) and Recharts
 * (~110 kB) stay out of every page's first-load JavaScript and arrive while the data is fetched
 * (docs/benchmarks.md, "Dashboard"). Pages import charts from here, data helpers from ./series.
 */
import dynamic from "next/dynamic";
import { Skeleton } from "@/components/ui/skeleton";

function ChartPlaceholder() {
  return <Skeleton className="h-[280px] w-full" />;
}

export const LineChart = dynamic(() => import("./line-chart").then((m) => m.LineChart), {
  ssr: false,
  loading: ChartPlaceholder,
});

export const PriceChart = dynamic(() => import("./price-chart").then((m) => m.PriceChart), {
  ssr: false,
  loading: ChartPlaceholder,
});

export const Bars = dynamic(() => import("./bars").then((m) => m.Bars), {
  ssr: false,
  loading: ChartPlaceholder,
});

export const ScatterPlot = dynamic(() => import("./scatter").then((m) => m.ScatterPlot), {
  ssr: false,
  loading: ChartPlaceholder,
});
