"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError, Label, Textarea } from "@/components/ui/input";
import { api, type ApiError } from "@/lib/api/client";
import type { Me, Risk } from "@/lib/api/hooks";

/** What a re-arm does, as POST /v1/risk/rearm does it. */
export const REARM_EFFECT =
  "Both breakers clear and measure afresh from the last equity point; a kill switch in reduce_only or " +
  "flatten_and_halt (whoever set it) returns to active, and the paper sessions trade again from their next " +
  "step; halt_entries stays as it is. The re-arm is audited with your reason.";

export const REARM_NEEDS_ADMIN = "Re-arming the breakers needs the admin role.";

/** An admin's re-arm of the breakers: a reason, a review of what it lifts, then the call. */
export function RearmControl({ me, risk, onDone }: { me: Me | undefined; risk: Risk; onDone: () => Promise<unknown> }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [reviewing, setReviewing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  if (!me) return null;
  if (me.role !== "admin") {
    return (
      <p role="note" className="text-xs text-slate-500" data-testid="rearm-denied">
        {REARM_NEEDS_ADMIN}
      </p>
    );
  }

  const { breakers } = risk;
  const tripped = breakers.daily_loss === "tripped" || breakers.drawdown === "latched";
  const close = () => {
    setOpen(false);
    setReason("");
    setReviewing(false);
    setFailure(null);
  };
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (reason.trim() === "") return;
    if (!reviewing) {
      setReviewing(true);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await api.post("/v1/risk/rearm", { body: { reason: reason.trim() } });
      await onDone();
      close();
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Button variant={tripped ? "danger" : "secondary"} onClick={() => setOpen(true)}>
        Re-arm breakers
      </Button>
      <Dialog open={open} onClose={close} title="Re-arm the breakers">
        <form onSubmit={submit} className="space-y-3">
          <p className="text-sm text-slate-700">
            Daily loss <Badge tone={breakers.daily_loss === "tripped" ? "bad" : "good"}>{breakers.daily_loss}</Badge>, drawdown{" "}
            <Badge tone={breakers.drawdown === "latched" ? "bad" : "good"}>{breakers.drawdown}</Badge>, kill switch{" "}
            <span className="font-mono">{breakers.kill_switch}</span>.
            {tripped ? null : " Nothing is tripped: a re-arm only restarts their measurement from the last equity."}
          </p>
          {reviewing ? (
            <div className="space-y-2 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm" data-testid="rearm-review">
              <p>{REARM_EFFECT}</p>
              <p>
                Reason: <span className="font-mono">{reason.trim()}</span>
              </p>
            </div>
          ) : (
            <div>
              <Label htmlFor="rearm-reason">Reason</Label>
              <Textarea id="rearm-reason" required rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
          )}
          <FieldError>{failure ? failure.message : null}</FieldError>
          <div className="flex justify-end gap-2">
            {reviewing ? (
              <Button type="button" variant="secondary" onClick={() => setReviewing(false)}>
                Back
              </Button>
            ) : (
              <Button type="button" variant="secondary" onClick={close}>
                Cancel
              </Button>
            )}
            <Button type="submit" variant={reviewing ? "danger" : "primary"} disabled={busy || reason.trim() === ""}>
              {reviewing ? "Confirm: re-arm" : "Review re-arm"}
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
