"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError, Label, Textarea } from "@/components/ui/input";
import { api, type ApiError } from "@/lib/api/client";
import { useKillSwitch, useMe } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import {
  ENFORCEMENT_SCOPE,
  ENFORCEMENT_TODAY,
  KILL_SWITCH_MODES,
  MODE_LABEL,
  MODE_MEANING,
  modeTone,
  type KillSwitchMode,
} from "./kill-switch-modes";

/** The kill switch's mode for everyone; admins also get the control: choose one of the four
 * modes and give a reason, then confirm the change (the API audits it with the user). */
export function KillSwitchControl() {
  const { data: state, error, mutate } = useKillSwitch();
  const { data: me } = useMe();
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState<KillSwitchMode | null>(null);
  const [reason, setReason] = useState("");
  const [reviewing, setReviewing] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  if (error && !state) return <Badge tone="warn">kill switch: unknown</Badge>;
  if (!state) return <Badge>kill switch: …</Badge>;

  const current = state.mode;
  const since = `${state.reason || "no reason given"} (${state.changed_by ?? "system"}, ${dateTime(state.changed_at)})`;
  const reset = () => {
    setTarget(null);
    setReason("");
    setReviewing(false);
    setFailure(null);
  };
  const close = () => {
    setOpen(false);
    reset();
  };
  const ready = target !== null && target !== current && reason.trim() !== "";

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!ready || target === null) return;
    if (!reviewing) {
      setReviewing(true);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      const next = await api.put("/v1/controls/kill-switch", { body: { mode: target, reason } });
      await mutate(next, { revalidate: false });
      close();
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex items-center gap-2" data-testid="kill-switch">
      <Badge tone={modeTone(current)} title={`${since}. ${ENFORCEMENT_TODAY}`}>
        {MODE_LABEL[current]}
      </Badge>
      {current !== "active" ? (
        <span className="text-xs text-slate-500" data-testid="kill-switch-scope">
          {ENFORCEMENT_SCOPE}
        </span>
      ) : null}
      {me?.role === "admin" ? (
        <>
          <Button variant={current === "active" ? "danger" : "secondary"} onClick={() => setOpen(true)}>
            Kill switch
          </Button>
          <Dialog open={open} onClose={close} title="Kill-switch mode">
            <form onSubmit={submit} className="space-y-3">
              <p className="text-sm text-slate-600">
                Now <Badge tone={modeTone(current)}>{current}</Badge> since {dateTime(state.changed_at)}
                {state.changed_by ? ` by ${state.changed_by}` : ""}
                {state.reason ? `: ${state.reason}` : ""}
              </p>
              {reviewing && target ? (
                <div className="space-y-2" data-testid="kill-switch-review">
                  <div className="flex items-center gap-2 text-sm">
                    <Badge tone={modeTone(current)}>{current}</Badge>
                    <span aria-hidden>→</span>
                    <span className="sr-only">to</span>
                    <Badge tone={modeTone(target)}>{target}</Badge>
                  </div>
                  <p className="text-sm text-slate-700">{MODE_MEANING[target]}</p>
                  <p className="text-sm text-slate-600">
                    Reason: <span className="font-mono">{reason.trim()}</span>
                  </p>
                </div>
              ) : (
                <>
                  <fieldset className="space-y-1.5">
                    <legend className="mb-1 text-xs font-medium text-slate-600">Mode</legend>
                    {KILL_SWITCH_MODES.map((mode) => (
                      <label key={mode} className="flex items-start gap-2 text-sm">
                        <input
                          type="radio"
                          name="kill-switch-mode"
                          value={mode}
                          className="mt-1"
                          checked={target === mode}
                          disabled={mode === current}
                          onChange={() => setTarget(mode)}
                          aria-describedby={`kill-mode-${mode}`}
                        />
                        <span>
                          <span className="font-mono font-medium">{mode}</span>
                          {mode === current ? <span className="text-slate-500"> (current)</span> : null}
                          <span id={`kill-mode-${mode}`} className="block text-xs text-slate-500">
                            {MODE_MEANING[mode]}
                          </span>
                        </span>
                      </label>
                    ))}
                  </fieldset>
                  <div>
                    <Label htmlFor="kill-reason">Reason</Label>
                    <Textarea
                      id="kill-reason"
                      required
                      rows={3}
                      value={reason}
                      onChange={(event) => setReason(event.target.value)}
                    />
                  </div>
                </>
              )}
              <p className="rounded-md border border-slate-200 bg-slate-50 p-2 text-xs text-slate-600" data-testid="kill-switch-truth">
                {ENFORCEMENT_TODAY}
              </p>
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
                <Button
                  type="submit"
                  variant={reviewing && target !== "active" ? "danger" : "primary"}
                  disabled={busy || !ready}
                >
                  {reviewing && target ? `Confirm: set ${target}` : "Review change"}
                </Button>
              </div>
            </form>
          </Dialog>
        </>
      ) : null}
    </div>
  );
}
