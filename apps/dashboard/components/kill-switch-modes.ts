import type { components } from "@/lib/api/schema";

export type KillSwitchMode = components["schemas"]["KillSwitchMode"];

/** The four modes in order of how much they stop (ADR 0024). */
export const KILL_SWITCH_MODES: readonly KillSwitchMode[] = ["active", "halt_entries", "reduce_only", "flatten_and_halt"];

/** What the header badge says for each mode. */
export const MODE_LABEL: Record<KillSwitchMode, string> = {
  active: "kill switch: active",
  halt_entries: "KILL SWITCH: HALT ENTRIES",
  reduce_only: "KILL SWITCH: REDUCE ONLY",
  flatten_and_halt: "KILL SWITCH: FLATTEN AND HALT",
};

/** What each mode lets through, as the risk gate applies it. */
export const MODE_MEANING: Record<KillSwitchMode, string> = {
  active: "Orders pass whatever the other risk rules allow.",
  halt_entries: "No order that opens or grows a position; orders that reduce a position and cancels pass.",
  reduce_only: "Only orders that reduce a position pass (the same rule; the mode a loss breaker sets).",
  flatten_and_halt: "Working orders are cancelled and every position is closed; after that nothing is sent.",
};

/** What setting a mode does today: recorded and audited, and obeyed wherever orders are made. */
export const ENFORCEMENT_TODAY =
  "The mode is recorded and audited, and survives restarts. Every paper session reads it before each bar " +
  "and hears each change as it is made, so its next order obeys it (flatten_and_halt closes its positions " +
  "at once); backtests that run with a kill-switch schedule apply it too. No live broker is connected yet, " +
  "so there are no live orders to stop.";

/** The header's one-line reminder of where an engaged mode holds. */
export const ENFORCEMENT_SCOPE = "paper sessions obey it from their next order; no live broker is connected yet";

export function modeTone(mode: KillSwitchMode): "good" | "warn" | "bad" {
  if (mode === "active") return "good";
  return mode === "reduce_only" ? "warn" : "bad";
}
