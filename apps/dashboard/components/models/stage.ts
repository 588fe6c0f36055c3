/** How a model's stage is shown, and what each stage means. */
export type Tone = "neutral" | "good" | "warn" | "bad" | "info";

export const STAGES = ["candidate", "paper", "live", "retired"] as const;

export function stageTone(stage: string): Tone {
  switch (stage) {
    case "live":
      return "good";
    case "paper":
      return "info";
    case "retired":
      return "neutral";
    default:
      return "warn";
  }
}

/** The stage a promotion or demotion leads to (candidate -> paper -> live), or null. */
export function nextStage(stage: string, promote: boolean): string | null {
  const ladder = ["candidate", "paper", "live"];
  const at = ladder.indexOf(stage);
  if (at < 0) return null;
  return ladder[at + (promote ? 1 : -1)] ?? null;
}

export const STAGE_NEEDS_ADMIN =
  "Only an admin can promote or demote a model: each decision passes the promotion gate and is audited with the admin's name and reason. Ask an admin if this model should move.";
