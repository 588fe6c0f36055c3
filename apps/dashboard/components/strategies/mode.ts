/** Trading modes in the order a strategy moves through them (BACKTEST → PAPER → LIVE). */
export const MODES = ["BACKTEST", "PAPER", "LIVE"] as const;
export type Mode = (typeof MODES)[number];

export function modeTone(mode: string): "neutral" | "info" | "bad" {
  if (mode === "LIVE") return "bad";
  if (mode === "PAPER") return "info";
  return "neutral";
}
