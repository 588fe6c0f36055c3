import { reportPercent } from "@/lib/format";
import { heatColor, heatInk, heatLimit } from "./heat";

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export interface MonthlyRow {
  year: number;
  /** January..December, a fraction; null where the run has no data */
  months: (number | null)[];
}

/** Monthly returns as the HTML report shows them: a year per row, a month per column, each cell
 * its return to one decimal ("-16.9%"), red to green around zero. */
export function MonthlyHeatmap({ rows }: { rows: MonthlyRow[] }) {
  const limit = heatLimit(
    rows.flatMap((r) => r.months),
    0,
  );
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-xs tabular-nums" data-testid="monthly-returns" aria-label="monthly returns">
        <thead>
          <tr>
            <th scope="col" className="px-1.5 py-1 text-left font-medium text-slate-500">
              Year
            </th>
            {MONTHS.map((month) => (
              <th key={month} scope="col" className="px-1.5 py-1 text-right font-medium text-slate-500">
                {month}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.year}>
              <th scope="row" className="px-1.5 py-0.5 text-left font-medium text-slate-700">
                {row.year}
              </th>
              {row.months.map((value, month) => (
                <td
                  key={month}
                  data-cell={`${row.year}-${String(month + 1).padStart(2, "0")}`}
                  className="border border-white px-1.5 py-0.5 text-right"
                  style={{ background: heatColor(value, 0, limit), color: heatInk(value, 0, limit) }}
                  title={value === null ? `${MONTHS[month]} ${row.year}: no data` : `${MONTHS[month]} ${row.year}: ${(value * 100).toFixed(2)}%`}
                >
                  {reportPercent(value)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
