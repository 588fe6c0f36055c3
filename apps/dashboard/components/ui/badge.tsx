import { cn } from "@/lib/cn";

type Tone = "neutral" | "good" | "warn" | "bad" | "info";

const tones: Record<Tone, string> = {
  neutral: "bg-slate-100 text-slate-700",
  good: "bg-emerald-100 text-emerald-800",
  warn: "bg-amber-100 text-amber-800",
  bad: "bg-red-100 text-red-800",
  info: "bg-sky-100 text-sky-800",
};

export function Badge({ tone = "neutral", className, ...props }: React.HTMLAttributes<HTMLSpanElement> & { tone?: Tone }) {
  return (
    <span
      className={cn("inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium", tones[tone], className)}
      {...props}
    />
  );
}

/** The colour a run, strategy or dependency status is shown in. */
export function statusTone(status: string | null | undefined): Tone {
  switch (status) {
    case "completed":
    case "ok":
    case "active":
      return "good";
    case "running":
    case "queued":
      return "info";
    case "failed":
    case "down":
    case "error":
      return "bad";
    case "cancelled":
    case "degraded":
    case "paused":
      return "warn";
    default:
      return "neutral";
  }
}
