"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError, Label, Textarea } from "@/components/ui/input";
import { api, type ApiError } from "@/lib/api/client";
import { useKillSwitch, useMe } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

/** The kill switch's state for everyone; admins also get the control, behind a confirmation
 * that asks for the reason (the API audits it with the user). */
export function KillSwitchControl() {
  const { data: state, error, mutate } = useKillSwitch();
  const { data: me } = useMe();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  if (error && !state) return <Badge tone="warn">kill switch: unknown</Badge>;
  if (!state) return <Badge>kill switch: …</Badge>;

  const engaging = !state.engaged;
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const next = await api.post("/v1/controls/kill-switch", { body: { engaged: engaging, reason } });
      await mutate(next, { revalidate: false });
      setOpen(false);
      setReason("");
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex items-center gap-2" data-testid="kill-switch">
      <Badge
        tone={state.engaged ? "bad" : "good"}
        title={`${state.reason || "no reason given"} (${state.changed_by ?? "system"}, ${dateTime(state.changed_at)})`}
      >
        {state.engaged ? "KILL SWITCH ENGAGED" : "trading armed"}
      </Badge>
      {me?.role === "admin" ? (
        <>
          <Button variant={engaging ? "danger" : "secondary"} onClick={() => setOpen(true)}>
            {engaging ? "Kill switch" : "Re-arm"}
          </Button>
          <Dialog open={open} onClose={() => setOpen(false)} title={engaging ? "Engage the kill switch" : "Re-arm trading"}>
            <form onSubmit={submit} className="space-y-3">
              <p className="text-sm text-slate-600">
                {engaging
                  ? "Every strategy stops sending orders until the switch is re-armed. The reason and your name are recorded."
                  : "Strategies may send orders again. The reason and your name are recorded."}
              </p>
              <div>
                <Label htmlFor="kill-reason">Reason</Label>
                <Textarea
                  id="kill-reason"
                  required
                  rows={3}
                  value={reason}
                  onChange={(event) => setReason(event.target.value)}
                />
                <FieldError>{failure ? failure.message : null}</FieldError>
              </div>
              <div className="flex justify-end gap-2">
                <Button type="button" variant="secondary" onClick={() => setOpen(false)}>
                  Cancel
                </Button>
                <Button type="submit" variant={engaging ? "danger" : "primary"} disabled={busy || reason.trim() === ""}>
                  {engaging ? "Engage kill switch" : "Re-arm trading"}
                </Button>
              </div>
            </form>
          </Dialog>
        </>
      ) : null}
    </div>
  );
}
