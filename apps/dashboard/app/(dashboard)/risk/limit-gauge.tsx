import { cn } from "@/lib/cn";
import type { Risk } from "@/lib/api/hooks";
import { money } from "@/lib/format";

export type Limit = Risk["limits"][number];

/** Where the gauge turns amber: the value is this share of its limit or more. */
export const NEAR_LIMIT = 0.8;

const ACCOUNT_LABELS: Record<string, string> = {
  "account.max_risk_per_trade": "Risk of the largest position",
  "account.max_capital_deployed": "Capital deployed",
  "account.max_positions": "Positions held",
  "account.daily_loss_limit": "Loss this session",
  "account.max_drawdown": "Drawdown from the peak",
};

const STRATEGY_LABELS: Record<string, string> = {
  budget: "gross exposure against its budget",
  max_capital_deployed: "capital deployed",
  max_position_pct: "largest position",
  max_positions: "positions held",
};

/** A policy field's name in words: `strategies.momentum_v1.max_positions` -> "momentum_v1: positions held". */
export function limitLabel(name: string): string {
  const own = ACCOUNT_LABELS[name];
  if (own) return own;
  const match = /^strategies\.(.+)\.([a-z_]+)$/.exec(name);
  if (match) return `${match[1]}: ${STRATEGY_LABELS[match[2]!] ?? match[2]}`;
  return name;
}

/** A limit's value as its unit reads: a share as a percentage, money with its cents, a count as a number. */
export function limitValue(value: number | null, unit: Limit["unit"]): string {
  if (value === null || !Number.isFinite(value)) return "—";
  switch (unit) {
    case "share":
      return `${(value * 100).toFixed(2)}%`;
    case "money":
      return money(value);
    case "count":
      return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
}

export function gaugeLevel(limit: Limit): "unmeasured" | "ok" | "near" | "breached" {
  if (limit.current === null) return "unmeasured";
  if (limit.breached || limit.current >= limit.limit) return "breached";
  return limit.limit > 0 && limit.current / limit.limit >= NEAR_LIMIT ? "near" : "ok";
}

const FILL: Record<ReturnType<typeof gaugeLevel>, string> = {
  unmeasured: "bg-slate-300",
  ok: "bg-emerald-500",
  near: "bg-amber-500",
  breached: "bg-red-600",
};

/** One limit of the policy against its value now: a bar filled to current / limit (full and red
 * at or past the limit), with both figures in words. */
export function LimitGauge({ limit }: { limit: Limit }) {
  const level = gaugeLevel(limit);
  const share = limit.current === null || limit.limit <= 0 ? 0 : Math.min(Math.max(limit.current / limit.limit, 0), 1);
  const label = limitLabel(limit.name);
  const text =
    limit.current === null
      ? `not measured yet; limit ${limitValue(limit.limit, limit.unit)}`
      : `${limitValue(limit.current, limit.unit)} of a ${limitValue(limit.limit, limit.unit)} limit`;
  return (
    <div data-testid="limit-gauge" data-limit={limit.name} data-level={level}>
      <div className="flex items-baseline justify-between gap-3 text-sm">
        <span className="font-medium text-slate-800">{label}</span>
        <span className={cn("tabular text-xs", level === "breached" ? "font-semibold text-red-700" : "text-slate-600")}>
          {text}
          {level === "breached" ? " · at the limit" : ""}
        </span>
      </div>
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={limit.limit}
        aria-valuenow={limit.current ?? undefined}
        aria-valuetext={text}
        className="mt-1 h-2.5 w-full overflow-hidden rounded-full bg-slate-100"
      >
        <div className={cn("h-full rounded-full", FILL[level])} style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <p className="mt-0.5 font-mono text-[11px] text-slate-400">{limit.name}</p>
    </div>
  );
}
