"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError, Label, Textarea } from "@/components/ui/input";
import { api, type ApiError } from "@/lib/api/client";
import { useMe, type ModelDetail } from "@/lib/api/hooks";
import { STAGE_NEEDS_ADMIN, nextStage, stageTone } from "./stage";

type Verb = "promote" | "demote";

/** Promote or demote a model one stage, for admins: a reason is required, the server's gate
 * decides a promotion (a refusal is shown with every failed check), and the decision is
 * audited. Anyone else sees why they cannot. */
export function StageControl({ model, onChanged }: { model: ModelDetail; onChanged: () => void }) {
  const { data: me } = useMe();
  const [verb, setVerb] = useState<Verb | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  if (!me) return null;
  if (me.role !== "admin") {
    return (
      <p role="note" className="text-xs text-slate-500" data-testid="stage-denied">
        {STAGE_NEEDS_ADMIN}
      </p>
    );
  }
  const up = nextStage(model.stage, true);
  const down = nextStage(model.stage, false);
  const target = verb === null ? null : nextStage(model.stage, verb === "promote");
  const open = (next: Verb) => {
    setVerb(next);
    setReason("");
    setFailure(null);
    setDone(null);
  };
  const close = () => setVerb(null);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (verb === null) return;
    setBusy(true);
    setFailure(null);
    try {
      const path = verb === "promote" ? "/v1/models/{model_id}/promote" : "/v1/models/{model_id}/demote";
      const answer = await api.post(path, { path: { model_id: model.id }, body: { reason } });
      setDone(`${answer.from_stage} → ${answer.stage} by ${answer.change.decided_by ?? "you"}`);
      setVerb(null);
      onChanged();
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-2" data-testid="stage-control">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <Button variant="primary" disabled={up === null} onClick={() => open("promote")}>
          {up ? `Promote to ${up}` : "Promote"}
        </Button>
        <Button variant="secondary" disabled={down === null} onClick={() => open("demote")}>
          {down ? `Demote to ${down}` : "Demote"}
        </Button>
      </div>
      <p className="text-xs text-slate-500">
        A promotion must pass the gate (out-of-sample Sharpe, deflated Sharpe, and time in paper before live); every
        decision is audited with your name and reason.
      </p>
      {done ? (
        <p aria-live="polite" className="text-xs text-emerald-700" data-testid="stage-done">
          Stage changed: {done}.
        </p>
      ) : null}
      <Dialog open={verb !== null} onClose={close} title={`${verb === "promote" ? "Promote" : "Demote"} ${model.name} v${model.version}`}>
        {verb !== null && target ? (
          <form onSubmit={submit} className="space-y-3">
            <div className="flex items-center gap-2 text-sm">
              <Badge tone={stageTone(model.stage)}>{model.stage}</Badge>
              <span aria-hidden>→</span>
              <span className="sr-only">to</span>
              <Badge tone={stageTone(target)}>{target}</Badge>
            </div>
            <div>
              <Label htmlFor="stage-reason">Reason</Label>
              <Textarea id="stage-reason" required rows={3} value={reason} onChange={(event) => setReason(event.target.value)} />
            </div>
            <FieldError>
              {failure ? `The API refused: ${failure.message}${failure.status ? ` (HTTP ${failure.status})` : ""}` : null}
            </FieldError>
            <div className="flex justify-end gap-2">
              <Button type="button" variant="secondary" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" disabled={busy || reason.trim() === ""}>
                {busy ? "Saving…" : `${verb === "promote" ? "Promote" : "Demote"} to ${target}`}
              </Button>
            </div>
          </form>
        ) : null}
      </Dialog>
    </div>
  );
}
