"use client";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FieldError, Input, Label, Textarea } from "@/components/ui/input";
import { api, type ApiError, type BodyOf } from "@/lib/api/client";
import { MODES, modeTone, type Mode } from "./mode";

type Transition = BodyOf<"/v1/controls/mode-transition", "post">;

const MEANING: Record<Mode, string> = {
  BACKTEST: "Research only: the strategy runs on stored history and sends no orders.",
  PAPER:
    "Simulated trading through the paper broker: no real money moves. The execution service (started by quant up) opens a paper session within a second and trades the data service's feed: a replay of stored bars (quant data replay) until a broker's live data is connected. Moving back to BACKTEST stops it and cancels its working orders.",
  LIVE:
    "Real orders with real money, under the risk gate and the kill switch. Not available yet: no broker is connected, so the mode is recorded and nothing is sent.",
};

/** Admin control that moves a strategy between BACKTEST, PAPER and LIVE, behind an approval
 * step: current and target mode, a reason, and for LIVE the strategy id typed as confirmation. */
export function ModeTransition({
  strategyId,
  mode,
  onChanged,
}: {
  strategyId: string;
  mode: string;
  onChanged: (mode: Mode) => void;
}) {
  const [target, setTarget] = useState<Mode | null>(null);
  const [reason, setReason] = useState("");
  const [confirm, setConfirm] = useState("");
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  const open = (next: Mode) => {
    setTarget(next);
    setReason("");
    setConfirm("");
    setFailure(null);
    setDone(null);
  };
  const close = () => setTarget(null);
  const live = target === "LIVE";
  const confirmed = !live || confirm === strategyId;

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!target || !confirmed) return;
    setBusy(true);
    setFailure(null);
    try {
      const body: Transition = { strategy_id: strategyId, mode: target, reason, confirm: live ? confirm : null };
      const answer = await api.post("/v1/controls/mode-transition", { body });
      setDone(`${answer.previous_mode} → ${answer.mode} by ${answer.changed_by}`);
      onChanged(answer.mode);
      setTarget(null);
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-2" data-testid="mode-transition">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="text-slate-600">Move to</span>
        {MODES.filter((m) => m !== mode).map((m) => (
          <Button key={m} variant={m === "LIVE" ? "danger" : "secondary"} onClick={() => open(m)}>
            {m}
          </Button>
        ))}
      </div>
      <p className="text-xs text-slate-500">LIVE is allowed only from PAPER; every change is audited with your name and reason.</p>
      {done ? (
        <p role="status" className="text-xs text-emerald-700">
          Mode changed: {done}.
        </p>
      ) : null}
      <Dialog open={target !== null} onClose={close} title={`Move ${strategyId} to ${target ?? ""}`}>
        {target ? (
          <form onSubmit={submit} className="space-y-3">
            <div className="flex items-center gap-2 text-sm" data-testid="transition-modes">
              <Badge tone={modeTone(mode)}>{mode}</Badge>
              <span aria-hidden>→</span>
              <span className="sr-only">to</span>
              <Badge tone={modeTone(target)}>{target}</Badge>
            </div>
            <p className="text-sm text-slate-600">{MEANING[target]}</p>
            {live ? (
              <div className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="live-warning">
                <p className="font-semibold">LIVE means real orders.</p>
                <p className="mt-1">
                  {strategyId} will send real orders through the broker with real money. The risk gate checks every
                  order before it is sent, and the kill switch in the header can halt new entries or flatten every
                  position; both act on live orders once the execution service that sends them exists.
                </p>
              </div>
            ) : null}
            <div>
              <Label htmlFor="transition-reason">Reason</Label>
              <Textarea
                id="transition-reason"
                required
                rows={3}
                value={reason}
                onChange={(event) => setReason(event.target.value)}
              />
            </div>
            {live ? (
              <div>
                <Label htmlFor="transition-confirm">
                  Type <span className="font-mono font-semibold">{strategyId}</span> to confirm
                </Label>
                <Input
                  id="transition-confirm"
                  autoComplete="off"
                  spellCheck={false}
                  value={confirm}
                  onChange={(event) => setConfirm(event.target.value)}
                />
              </div>
            ) : null}
            <FieldError>
              {failure ? `The API refused: ${failure.message}${failure.status ? ` (HTTP ${failure.status})` : ""}` : null}
            </FieldError>
            <div className="flex justify-end gap-2">
              <Button type="button" variant="secondary" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" variant={live ? "danger" : "primary"} disabled={busy || reason.trim() === "" || !confirmed}>
                {busy ? "Moving…" : `Move to ${target}`}
              </Button>
            </div>
          </form>
        ) : null}
      </Dialog>
    </div>
  );
}
