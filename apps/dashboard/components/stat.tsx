import { cn } from "@/lib/cn";

/** One headline figure with its label. */
export function Stat({ label, value, tone }: { label: string; value: string; tone?: "good" | "bad" }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd
        className={cn(
          "tabular mt-1 text-lg font-semibold",
          tone === "good" && "text-emerald-700",
          tone === "bad" && "text-red-700",
        )}
      >
        {value}
      </dd>
    </div>
  );
}
