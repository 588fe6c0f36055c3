import { heatColor, heatInk, heatLimit } from "./heat";

export interface GridSurface {
  objective: string;
  x_title: string;
  y_title: string;
  x: string[];
  y: string[];
  z: (number | null)[][];
  chosen: { row: number; column: number; windows: number }[];
  by_window: boolean;
  caption: string;
}

/** A walk-forward's in-sample objective over its parameter grid (the HTML report's heatmap):
 * each cell its score to two decimals, red to green around the middle of the scores seen, the
 * chosen cells outlined with how many windows chose them. */
export function GridHeatmap({ surface }: { surface: GridSurface }) {
  const values = surface.z.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const mid = values.length ? (Math.min(...values) + Math.max(...values)) / 2 : 0;
  const limit = heatLimit(values, mid);
  const chosen = new Map(surface.chosen.map((c) => [`${c.row}:${c.column}`, c.windows]));
  return (
    <div className="overflow-x-auto">
      <p className="mb-2 text-xs text-slate-500">{surface.caption}</p>
      <table className="border-collapse text-xs tabular-nums" data-testid="parameter-heatmap" aria-label="parameter heatmap">
        <thead>
          <tr>
            <th scope="col" className="px-2 py-1 text-left font-medium text-slate-500">
              {surface.y_title} \ {surface.x_title}
            </th>
            {surface.x.map((label) => (
              <th key={label} scope="col" className="px-2 py-1 text-right font-mono font-medium text-slate-600">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {surface.y.map((rowLabel, row) => (
            <tr key={rowLabel}>
              <th scope="row" className="px-2 py-1 text-left font-mono font-medium text-slate-600">
                {rowLabel}
              </th>
              {surface.x.map((columnLabel, column) => {
                const value = surface.z[row]?.[column] ?? null;
                const windows = chosen.get(`${row}:${column}`);
                return (
                  <td
                    key={columnLabel}
                    className="min-w-16 border border-white px-2 py-1 text-right"
                    style={{
                      background: heatColor(value, mid, limit),
                      color: heatInk(value, mid, limit),
                      outline: windows ? "2px solid #0f172a" : undefined,
                      outlineOffset: windows ? "-2px" : undefined,
                    }}
                    data-chosen={windows ? windows : undefined}
                    title={`${surface.y_title} ${rowLabel}, ${surface.x_title} ${columnLabel}: ${value === null ? "no score" : value.toFixed(4)}${windows ? ` (chosen${surface.by_window ? "" : ` by ${windows} window${windows > 1 ? "s" : ""}`})` : ""}`}
                  >
                    {value === null ? "—" : value.toFixed(2)}
                    {windows && !surface.by_window ? <span className="ml-1 font-semibold">{windows}×</span> : null}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
