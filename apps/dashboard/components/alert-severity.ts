/** The alert severities the platform raises (quant_db.alerts.Severity), most urgent first, and
 * the colour each is shown in. Older rows may carry other words; they show as neutral. */
export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;

export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export function severityTone(severity: string): "bad" | "warn" | "info" | "neutral" {
  switch (severity) {
    case "critical":
    case "error":
      return "bad";
    case "warning":
      return "warn";
    case "info":
      return "info";
    default:
      return "neutral";
  }
}
