"use client";
import { CartesianGrid, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from "recharts";

export interface ScatterDatum {
  x: number;
  y: number;
  /** what the tooltip names the point by (e.g. the trade's symbol and entry date) */
  name: string;
}

export interface ScatterGroup {
  name: string;
  color: string;
  points: ScatterDatum[];
}

/** Points in groups (Recharts), with zero lines on both axes: e.g. each trade's MAE against its return. */
export function ScatterPlot({
  groups,
  label,
  xName,
  yName,
  height = 260,
  format = (n) => `${n.toFixed(1)}%`,
}: {
  groups: ScatterGroup[];
  label: string;
  xName: string;
  yName: string;
  height?: number;
  format?: (n: number) => string;
}) {
  return (
    <div role="img" aria-label={label} style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        <ScatterChart margin={{ top: 8, right: 8, bottom: 16, left: 8 }}>
          <CartesianGrid stroke="#f1f5f9" />
          <XAxis type="number" dataKey="x" name={xName} tick={{ fontSize: 10, fill: "#64748b" }} tickFormatter={(n: number) => format(n)} />
          <YAxis type="number" dataKey="y" name={yName} tick={{ fontSize: 10, fill: "#64748b" }} tickFormatter={(n: number) => format(n)} width={56} />
          <ZAxis range={[24, 24]} />
          <ReferenceLine x={0} stroke="#94a3b8" />
          <ReferenceLine y={0} stroke="#94a3b8" />
          <Tooltip
            formatter={(value, name) => [format(Number(value)), String(name)]}
            contentStyle={{ fontSize: 12 }}
            isAnimationActive={false}
          />
          {groups.map((group) => (
            <Scatter key={group.name} name={group.name} data={group.points} fill={group.color} isAnimationActive={false} />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}
