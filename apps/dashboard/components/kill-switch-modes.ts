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

/** What setting a mode does today: recorded and audited; enforced where orders exist. */
export const ENFORCEMENT_TODAY =
  "The mode is recorded and audited, and survives restarts. The risk gate enforces it in backtests " +
  "that run with a kill-switch schedule. No paper or live orders are sent yet (there is no execution " +
  "service), so nothing live is stopped today; once the execution service exists, the mode stops its " +
  "paper and live orders.";

export function modeTone(mode: KillSwitchMode): "good" | "warn" | "bad" {
  if (mode === "active") return "good";
  return mode === "reduce_only" ? "warn" : "bad";
}
