"use client";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { ACTIVE_RUN_POLL_MS, FAST_POLL_MS, SLOW_POLL_MS, useMe } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { useSignOut } from "@/lib/session-client";
import { ApiKeysCard } from "./api-keys-card";

const seconds = (ms: number) => `${ms / 1000} s`;

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2">{children}</dd>
    </div>
  );
}

export function SettingsView({
  serverApiUrl,
  browserApiUrl,
  accessExpires,
  refreshExpires,
  refreshMarginSeconds,
}: {
  serverApiUrl: string;
  browserApiUrl: string;
  accessExpires: string | null;
  refreshExpires: string | null;
  refreshMarginSeconds: number;
}) {
  const me = useMe();
  const signOut = useSignOut();

  return (
    <div className="max-w-3xl space-y-5">
      <h1 className="text-xl font-semibold">Settings</h1>

      <Card>
        <CardHeader title="Signed in as" />
        {me.error && !me.data ? (
          <ErrorState what="the signed-in user" error={me.error} onRetry={() => me.mutate()} />
        ) : !me.data ? (
          <LoadingRows rows={2} label="Loading the signed-in user" />
        ) : (
          <CardBody>
            <dl className="divide-y divide-slate-100">
              <Row label="Username">
                <span data-testid="settings-username">{me.data.username}</span>
              </Row>
              <Row label="Role">
                <Badge>{me.data.role}</Badge>{" "}
                <span className="text-xs text-slate-500">
                  {me.data.role === "admin"
                    ? "may change strategies, modes and the kill switch"
                    : me.data.role === "trader"
                      ? "may start runs; strategy changes need an admin"
                      : "read-only"}
                </span>
              </Row>
            </dl>
          </CardBody>
        )}
      </Card>

      <Card>
        <CardHeader title="Session" />
        <CardBody>
          <dl className="divide-y divide-slate-100">
            <Row label="Access token">
              The API issues 15-minute access tokens (its default, QUANT_ACCESS_TOKEN_MINUTES); the dashboard server refreshes yours automatically when less than{" "}
              {refreshMarginSeconds} s remain. Current one expires {dateTime(accessExpires)}.
            </Row>
            <Row label="Refresh token">Expires {dateTime(refreshExpires)}; after that, sign in again.</Row>
            <Row label="Storage">httpOnly cookies: scripts in this page never see the tokens.</Row>
          </dl>
          <Button variant="secondary" className="mt-3" onClick={signOut}>
            Sign out
          </Button>
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="API" />
        <CardBody>
          <dl className="divide-y divide-slate-100">
            <Row label="Used by the dashboard server">
              <code>{serverApiUrl}</code>{" "}
              <span className="text-xs text-slate-500">(QUANT_API_URL, else NEXT_PUBLIC_API_URL)</span>
            </Row>
            <Row label="Used by this browser">
              <code>{browserApiUrl}</code>{" "}
              <span className="text-xs text-slate-500">(only the health page&apos;s direct probe)</span>
            </Row>
          </dl>
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="Polling" description="Paused while the tab is hidden; a poll starts only after the previous one answered." />
        <CardBody>
          <dl className="divide-y divide-slate-100" data-testid="polling">
            <Row label="Metrics, positions, alerts, kill switch">every {seconds(FAST_POLL_MS)}</Row>
            <Row label="Strategies, runs, health">every {seconds(SLOW_POLL_MS)}</Row>
            <Row label="A queued or running run">every {seconds(ACTIVE_RUN_POLL_MS)}</Row>
          </dl>
        </CardBody>
      </Card>

      {me.data ? <ApiKeysCard me={me.data} /> : null}

      {me.data?.role === "admin" ? (
        <Card data-testid="admin-users">
          <CardHeader title="Users" />
          <CardBody className="text-sm text-slate-700">
            The API has no users endpoint yet, so users are managed on the server with the CLI:
            <pre className="mt-2 whitespace-pre-wrap rounded bg-slate-100 p-2 text-xs">
              {[
                "QUANT_PASSWORD=… quant users create --username alice --role viewer",
                "quant users list",
                "quant users set-role --username alice --role trader",
                "quant users deactivate --username alice     # ends her sessions at once",
                "quant users set-password --username alice   # prompts; ends her sessions",
              ].join("\n")}
            </pre>
            <p className="mt-2 text-xs text-slate-500">Roles: viewer, trader, admin. Every change is audited.</p>
          </CardBody>
        </Card>
      ) : null}
    </div>
  );
}
