/** The colour of an order's status. */
export function orderStatusTone(status: string): "neutral" | "good" | "warn" | "bad" | "info" {
  switch (status) {
    case "filled":
      return "good";
    case "rejected":
    case "unknown":
      return "bad";
    case "cancelled":
    case "expired":
      return "warn";
    case "pending_submit":
    case "submitted":
    case "accepted":
    case "partially_filled":
    case "pending_cancel":
      return "info";
    default:
      return "neutral";
  }
}

/** Every order status, in the order of an order's life (quant_domain.OrderStatus). */
export const ORDER_STATUSES = [
  "pending_submit",
  "submitted",
  "accepted",
  "partially_filled",
  "filled",
  "pending_cancel",
  "cancelled",
  "rejected",
  "expired",
  "unknown",
] as const;

/** Shares or units, fractional when the broker allows it. */
export function units(value: number | string | null | undefined): string {
  const n = value === null || value === undefined ? null : Number(value);
  return n === null || !Number.isFinite(n) ? "—" : n.toLocaleString("en-US", { maximumFractionDigits: 6 });
}
