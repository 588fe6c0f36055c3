/** What each line of a chart is: a colour swatch and its name, under the canvas. */
export function ChartLegend({ items }: { items: { name: string; color: string; dashed?: boolean }[] }) {
  return (
    <ul className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600" aria-label="legend">
      {items.map((item) => (
        <li key={item.name} className="flex items-center gap-1.5">
          <span
            aria-hidden
            className="inline-block w-4"
            style={{ borderTop: `${item.dashed ? "1px dashed" : "2px solid"} ${item.color}` }}
          />
          {item.name}
        </li>
      ))}
    </ul>
  );
}
