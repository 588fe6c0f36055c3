"use client";
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface BarDatum {
  label: string;
  value: number;
  /** the bar's colour; default by sign (green up, red down) */
  color?: string;
}

/** Vertical bars (Recharts) for a distribution or per-period figures. */
export function Bars({
  data,
  label,
  height = 220,
  format = (n) => n.toFixed(2),
  valueName = "value",
}: {
  data: BarDatum[];
  label: string;
  height?: number;
  format?: (n: number) => string;
  valueName?: string;
}) {
  return (
    <div role="img" aria-label={label} style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 4, left: 8 }}>
          <CartesianGrid stroke="#f1f5f9" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 10, fill: "#64748b" }} interval="preserveStartEnd" minTickGap={12} />
          <YAxis tick={{ fontSize: 10, fill: "#64748b" }} tickFormatter={(n: number) => format(n)} width={56} />
          <Tooltip
            formatter={(value) => [format(Number(value)), valueName]}
            contentStyle={{ fontSize: 12 }}
            isAnimationActive={false}
          />
          <Bar dataKey="value" isAnimationActive={false}>
            {data.map((d, i) => (
              <Cell key={i} fill={d.color ?? (d.value >= 0 ? "#16a34a" : "#dc2626")} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
