"use client";
import Link from "next/link";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { type Reconciliation, useReconciliation } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

/** What each state means for orders, as the execution service applies it (ADR 0027). */
export const STATE_MEANING: Record<Reconciliation["state"], string> = {
  clean: "the broker and the platform agree: orders may be sent",
  pending: "not checked since the session (re)connected, or a resolution is being carried out: every order is refused",
  blocked: "the broker and the platform differ: every order is refused until an admin adopts the broker's state or flattens",
};

const TONE = { clean: "good", pending: "warn", blocked: "bad" } as const;

const KIND: Record<Reconciliation["differences"][number]["kind"], string> = {
  unknown_broker_order: "order at the broker we did not store",
  order_not_at_broker: "stored working order the broker lacks",
  position_mismatch: "position differs",
};

export const NEVER_CHECKED =
  "No account was reconciled yet: a paper session checks its account before its first order, and until then no order may be sent for it.";

/** Each broker account's last reconciliation: its state, when, by which session, and every
 * difference found (polled every 5 s). */
export function ReconciliationCard() {
  const { data, error, mutate } = useReconciliation();
  return (
    <Card data-testid="reconciliation">
      <CardHeader
        title="Reconciliation"
        description="Before a session's first order the broker's working orders and positions are compared with what PostgreSQL holds; nothing is traded to make them agree."
      />
      {error && !data ? (
        <ErrorState what="the reconciliation state" error={error} onRetry={() => mutate()} />
      ) : !data ? (
        <LoadingRows rows={2} label="Loading the reconciliation state" />
      ) : data.length === 0 ? (
        <EmptyState title="Never checked">{NEVER_CHECKED}</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100">
          {data.map((account) => (
            <li key={account.account} className="space-y-2 px-4 py-3" data-testid={`reconciliation-${account.account}`}>
              <div className="flex flex-wrap items-center gap-2 text-sm">
                <span className="font-mono font-medium">{account.account}</span>
                <Badge tone={TONE[account.state]} data-testid="reconciliation-state">
                  {account.state}
                </Badge>
                <span className="text-xs text-slate-600">{STATE_MEANING[account.state]}</span>
              </div>
              <p className="text-xs text-slate-500">
                checked {dateTime(account.checked_at)}
                {account.run_id ? (
                  <>
                    {" "}
                    by session{" "}
                    <Link className="font-mono text-sky-700 hover:underline" href={`/runs/${account.run_id}`}>
                      {account.run_id.slice(0, 8)}
                    </Link>
                  </>
                ) : null}
                {account.resolution
                  ? ` · last resolution: ${account.resolution}${account.resolved_at ? ` at ${dateTime(account.resolved_at)}` : ""}`
                  : ""}
                {account.reason ? ` · ${account.reason}` : ""}
              </p>
              {account.differences.length === 0 ? (
                <p className="text-xs text-slate-600">No differences.</p>
              ) : (
                <Table aria-label={`differences of ${account.account}`}>
                  <thead>
                    <tr>
                      <Th>Difference</Th>
                      <Th>Order / symbol</Th>
                      <Th>Broker holds</Th>
                      <Th>Platform stored</Th>
                    </tr>
                  </thead>
                  <tbody>
                    {account.differences.map((d, i) => (
                      <tr key={i}>
                        <Td className="text-xs">{KIND[d.kind]}</Td>
                        <Td className="font-mono text-xs">{d.key}</Td>
                        <Td className="text-xs">{d.broker}</Td>
                        <Td className="text-xs">{d.ours}</Td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
