import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import type { Risk } from "@/lib/api/hooks";
import { dateTime, money, percent } from "@/lib/format";

type Policy = NonNullable<Risk["policy"]>;

function share(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : percent(value);
}

/** The policy version in force: who applied it, when, why, from where, and every field of it. */
export function PolicyCard({ policy }: { policy: Policy }) {
  const account = policy.policy.account;
  const strategies = Object.entries(policy.policy.strategies ?? {});
  return (
    <Card data-testid="policy">
      <CardHeader
        title={`Policy in force: version ${policy.version}`}
        description={`Applied ${dateTime(policy.applied_at)} by ${policy.applied_by ?? "a user since removed"} from ${policy.source}: ${
          policy.reason || "no reason given"
        }`}
      />
      <CardBody className="space-y-4">
        {account ? (
          <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-sm md:grid-cols-4">
            {(
              [
                ["Max risk per trade", percent(account.max_risk_per_trade)],
                ["Stop distance", percent(account.stop_distance)],
                ["Max capital deployed", percent(account.max_capital_deployed)],
                ["Max positions", String(account.max_positions)],
                ["Daily loss limit", percent(account.daily_loss_limit)],
                ["Max drawdown", percent(account.max_drawdown)],
                ["Session calendar", account.calendar],
              ] as const
            ).map(([term, value]) => (
              <div key={term}>
                <dt className="text-xs text-slate-500">{term}</dt>
                <dd className="tabular">{value}</dd>
              </div>
            ))}
          </dl>
        ) : null}
        {strategies.length > 0 ? (
          <Table aria-label="strategy limits">
            <thead>
              <tr>
                <Th>Strategy</Th>
                <Th className="text-right">Budget</Th>
                <Th className="text-right">Max capital deployed</Th>
                <Th className="text-right">Max position</Th>
                <Th className="text-right">Max positions</Th>
              </tr>
            </thead>
            <tbody>
              {strategies.map(([id, own]) => (
                <tr key={id}>
                  <Td className="font-medium">{id}</Td>
                  <Td className="tabular text-right">{own.budget === null || own.budget === undefined ? "—" : money(own.budget)}</Td>
                  <Td className="tabular text-right">{share(own.max_capital_deployed)}</Td>
                  <Td className="tabular text-right">{share(own.max_position_pct)}</Td>
                  <Td className="tabular text-right">{own.max_positions ?? "—"}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
        <p className="text-xs text-slate-500">
          This page does not edit the policy. An admin changes it with <code>quant risk apply FILE --reason … --user …</code> or{" "}
          <code>PUT /v1/risk/policy</code>; each change is a new version, audited with the old and new values.
        </p>
      </CardBody>
    </Card>
  );
}
