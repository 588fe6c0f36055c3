/** Trading modes in the order a strategy moves through them (BACKTEST → PAPER → LIVE). */
export const MODES = ["BACKTEST", "PAPER", "LIVE"] as const;
export type Mode = (typeof MODES)[number];

export function modeTone(mode: string): "neutral" | "info" | "bad" {
  if (mode === "LIVE") return "bad";
  if (mode === "PAPER") return "info";
  return "neutral";
}

/** The modes one step away: the API allows LIVE only from PAPER, so BACKTEST → LIVE is not offered. */
export function nextModes(current: string): Mode[] {
  switch (current) {
    case "BACKTEST":
      return ["PAPER"];
    case "PAPER":
      return ["LIVE", "BACKTEST"];
    case "LIVE":
      return ["PAPER", "BACKTEST"];
    default:
      return MODES.filter((m) => m !== current);
  }
}
