"use client";
import { useSWRConfig } from "swr";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { apiKey, useMe, useRisk } from "@/lib/api/hooks";
import { BreakersCard } from "./breakers-card";
import { ExposureTable } from "./exposure-table";
import { LimitGauge } from "./limit-gauge";
import { ModeHistory } from "./mode-history";
import { PolicyCard } from "./policy-card";
import { RearmControl } from "./rearm-control";

export const NO_POLICY = "No risk policy has been applied yet";

/** GET /v1/risk as one page, polled every 5 s: the breakers first (what stops trading now), each
 * limit against its value, the policy version in force, exposure, and the kill switch's history. */
export function RiskView() {
  const { data: risk, error, mutate } = useRisk();
  const { data: me } = useMe();
  const { mutate: revalidate } = useSWRConfig();
  // a re-arm can set the kill switch back to active: the header shows it at once
  const rearmed = () => Promise.all([mutate(), revalidate(apiKey("/v1/controls/kill-switch"))]);

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-xl font-semibold">Risk</h1>
        {risk ? <RearmControl me={me} risk={risk} onDone={rearmed} /> : null}
      </div>

      {error && !risk ? (
        <ErrorState what="the risk state" error={error} onRetry={() => mutate()} />
      ) : !risk ? (
        <LoadingRows rows={6} label="Loading the risk state" />
      ) : (
        <>
          {error ? (
            <p role="alert" className="text-xs text-red-700">
              The last check failed ({error.message}); showing the previous answer.
            </p>
          ) : null}
          <BreakersCard breakers={risk.breakers} />

          <Card data-testid="limits">
            <CardHeader
              title="Limits against their values now"
              description="Each bar fills to the value's share of its limit: amber from 80 %, red at the limit."
            />
            {risk.policy === null ? (
              <EmptyState title={NO_POLICY}>
                An admin applies one with <code>quant risk apply configs/risk/default.yaml --reason … --user …</code> or{" "}
                <code>PUT /v1/risk/policy</code>; until then no limit is checked and no breaker trips.
              </EmptyState>
            ) : risk.limits.length === 0 ? (
              <EmptyState title="The policy in force sets no limits" />
            ) : (
              <CardBody className="grid gap-4 md:grid-cols-2">
                {risk.limits.map((limit) => (
                  <LimitGauge key={limit.name} limit={limit} />
                ))}
              </CardBody>
            )}
          </Card>

          {risk.policy ? <PolicyCard policy={risk.policy} /> : null}

          <Card>
            <CardHeader title="Exposure" description="The account is the sum of the running paper sessions; concentration is the largest position." />
            <ExposureTable account={risk.exposure} strategies={risk.strategies} />
          </Card>

          <Card data-testid="mode-history">
            <CardHeader title="Kill-switch history" description="Every mode change, newest first: an admin's (API or CLI) or the risk service's." />
            <ModeHistory history={risk.history} />
          </Card>
        </>
      )}
    </div>
  );
}
