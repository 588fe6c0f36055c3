import { modeTone, MODE_MEANING } from "@/components/kill-switch-modes";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import type { Risk } from "@/lib/api/hooks";
import { dateTime, money, percent } from "@/lib/format";

type Breakers = Risk["breakers"];
export type Trip = Breakers["trips"][number];

const RULE_LABEL: Record<string, string> = {
  daily_loss: "daily loss",
  daily_loss_release: "daily loss released (new session)",
  drawdown: "drawdown",
};

export function ruleLabel(rule: string): string {
  return RULE_LABEL[rule] ?? rule;
}

/** Why a trip happened, from its figures: "drawdown 10.89% reached its 10.00% limit at equity 90,000.00". */
export function tripReason(trip: Trip): string {
  if (trip.rule === "daily_loss_release") return `a new session began at equity ${money(trip.equity)}`;
  return `${ruleLabel(trip.rule)} ${percent(trip.value)} reached its ${percent(trip.limit)} limit at equity ${money(trip.equity)}`;
}

/** The newest trip of `rule`, if any (the API lists them oldest first). */
export function lastTrip(trips: Trip[], rule: string): Trip | undefined {
  return [...trips].reverse().find((t) => t.rule === rule);
}

function BreakerRow({
  name,
  state,
  tripped,
  trip,
  measure,
}: {
  name: string;
  state: string;
  tripped: boolean;
  trip: Trip | undefined;
  measure: string;
}) {
  return (
    <div data-testid={`breaker-${name.replace(/ /g, "-")}`} data-state={state} className="rounded-md border border-slate-200 p-3">
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-semibold capitalize">{name} breaker</h3>
        <Badge tone={tripped ? "bad" : "good"}>{state}</Badge>
      </div>
      <p className="mt-1 text-xs text-slate-600">{measure}</p>
      {tripped && trip ? (
        <p className="mt-2 text-sm text-red-800" data-testid="breaker-why">
          Tripped on the equity point of {dateTime(trip.at)}: {tripReason(trip)}; set <span className="font-mono">{trip.mode}</span>.
        </p>
      ) : tripped ? (
        <p className="mt-2 text-sm text-red-800">Tripped; the trip itself is no longer in the stored history.</p>
      ) : null}
    </div>
  );
}

/** The kill switch and both breakers: whether each is tripped, when and why, and every recent trip. */
export function BreakersCard({ breakers }: { breakers: Breakers }) {
  const trips = [...breakers.trips].reverse();
  return (
    <Card data-testid="breakers">
      <CardHeader
        title="Breakers"
        description={
          breakers.last_point_at
            ? `Evaluated by the risk service (quant risk run) on the paper sessions' equity; last point ${dateTime(breakers.last_point_at)}.`
            : "Evaluated by the risk service (quant risk run) on the paper sessions' equity; no equity point has been evaluated yet."
        }
        actions={
          <Badge tone={modeTone(breakers.kill_switch)} title={MODE_MEANING[breakers.kill_switch]}>
            kill switch: {breakers.kill_switch}
          </Badge>
        }
      />
      <CardBody className="space-y-4">
        <div className="grid gap-3 md:grid-cols-2">
          <BreakerRow
            name="daily loss"
            state={breakers.daily_loss}
            tripped={breakers.daily_loss === "tripped"}
            trip={lastTrip(breakers.trips, "daily_loss")}
            measure={`Loss this session ${percent(breakers.session_loss)}; trips to reduce_only until the next session or an admin's re-arm.`}
          />
          <BreakerRow
            name="drawdown"
            state={breakers.drawdown}
            tripped={breakers.drawdown === "latched"}
            trip={lastTrip(breakers.trips, "drawdown")}
            measure={`Drawdown ${percent(breakers.drawdown_value)} from a peak of ${money(breakers.peak_equity)} (equity now ${money(
              breakers.equity,
            )}); latches flatten_and_halt until an admin re-arms.`}
          />
        </div>
        <div>
          <h3 className="mb-1 text-sm font-semibold">Recent trips</h3>
          {trips.length === 0 ? (
            <p className="text-xs text-slate-600">No trip since the breakers were last armed.</p>
          ) : (
            <Table aria-label="trips">
              <thead>
                <tr>
                  <Th>Equity point</Th>
                  <Th>Rule</Th>
                  <Th>Mode set</Th>
                  <Th>Why</Th>
                </tr>
              </thead>
              <tbody>
                {trips.map((trip) => (
                  <tr key={`${trip.rule}-${trip.at}`}>
                    <Td className="whitespace-nowrap text-xs">{dateTime(trip.at)}</Td>
                    <Td>{ruleLabel(trip.rule)}</Td>
                    <Td>
                      <Badge tone={modeTone(trip.mode)}>{trip.mode}</Badge>
                    </Td>
                    <Td className="text-xs text-slate-700">{tripReason(trip)}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
      </CardBody>
    </Card>
  );
}
