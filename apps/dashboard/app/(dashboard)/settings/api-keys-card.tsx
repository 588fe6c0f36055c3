"use client";
import { useState } from "react";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { FieldError, Input, Label, Select } from "@/components/ui/input";
import { Table, Td, Th } from "@/components/ui/table";
import { api, type ApiError, type ResponseOf } from "@/lib/api/client";
import { useApi, type Me } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

type Key = ResponseOf<"/v1/api-keys">[number];
type Role = Me["role"];
const ROLES: Role[] = ["viewer", "trader", "admin"];

function state(key: Key): { label: string; tone: "good" | "bad" | "warn" } {
  if (key.revoked_at) return { label: "revoked", tone: "bad" };
  if (key.expires_at && new Date(key.expires_at) <= new Date()) return { label: "expired", tone: "warn" };
  return { label: "active", tone: "good" };
}

/** API keys for scripts: create one (its key is shown here once), list and revoke them. The
 * API caps a key's role at its creator's; admins see and may revoke everyone's keys. */
export function ApiKeysCard({ me }: { me: Me }) {
  const keys = useApi("/v1/api-keys");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [days, setDays] = useState("");
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<ResponseOf<"/v1/api-keys", "post"> | null>(null);
  const [busy, setBusy] = useState(false);
  const allowed = ROLES.slice(0, ROLES.indexOf(me.role) + 1);

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    setCreated(null);
    try {
      const body = { name, role, expires_in_days: days === "" ? null : Number(days) };
      setCreated(await api.post("/v1/api-keys", { body }));
      setName("");
      setDays("");
      await keys.mutate();
    } catch (caught) {
      setFailure(caught as ApiError); // api.* throws only ApiError
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: Key) => {
    setFailure(null);
    try {
      await api.post("/v1/api-keys/{key_id}/revoke", { path: { key_id: key.id } });
      await keys.mutate();
    } catch (caught) {
      setFailure(caught as ApiError);
    }
  };

  return (
    <Card data-testid="api-keys">
      <CardHeader
        title="API keys"
        description="For scripts and notebooks: send one as `Authorization: Bearer <key>` or `X-API-Key: <key>`. A key acts for you with the role you give it (never above yours), until it expires or is revoked."
      />
      <CardBody className="space-y-4">
        <form onSubmit={create} className="grid grid-cols-1 gap-3 sm:grid-cols-4 sm:items-end">
          <div className="sm:col-span-2">
            <Label htmlFor="key-name">Name</Label>
            <Input id="key-name" required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} placeholder="nightly report" />
          </div>
          <div>
            <Label htmlFor="key-role">Role</Label>
            <Select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {allowed.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </Select>
          </div>
          <div>
            <Label htmlFor="key-days">Expires after (days)</Label>
            <Input id="key-days" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" />
          </div>
          <div className="sm:col-span-4">
            <Button type="submit" disabled={busy || name.trim() === ""}>
              Create key
            </Button>
            <FieldError>{failure ? `${failure.field ? `${failure.field}: ` : ""}${failure.message}` : null}</FieldError>
          </div>
        </form>

        {created ? (
          <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="new-api-key">
            <p className="font-medium">Copy this key now: it is shown once and the server keeps only its hash.</p>
            <code className="mt-2 block break-all rounded bg-white p-2 text-xs">{created.key}</code>
          </div>
        ) : null}

        {keys.error && !keys.data ? (
          <ErrorState what="the API keys" error={keys.error} onRetry={() => keys.mutate()} />
        ) : !keys.data ? (
          <LoadingRows rows={2} label="Loading the API keys" />
        ) : keys.data.length === 0 ? (
          <p className="text-sm text-slate-500">No API keys yet.</p>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Key</Th>
                {me.role === "admin" ? <Th>Owner</Th> : null}
                <Th>Role</Th>
                <Th>Created</Th>
                <Th>Last used</Th>
                <Th>Expires</Th>
                <Th>State</Th>
                <Th />
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => {
                const { label, tone } = state(key);
                return (
                  <tr key={key.id}>
                    <Td>{key.name}</Td>
                    <Td>
                      <code className="text-xs">qk_{key.prefix}_…</code>
                    </Td>
                    {me.role === "admin" ? <Td>{key.owner}</Td> : null}
                    <Td>{key.role}</Td>
                    <Td>{dateTime(key.created_at)}</Td>
                    <Td>{key.last_used_at ? dateTime(key.last_used_at) : "never"}</Td>
                    <Td>{key.expires_at ? dateTime(key.expires_at) : "never"}</Td>
                    <Td>
                      <Badge tone={tone}>{label}</Badge>
                    </Td>
                    <Td>
                      {label === "active" ? (
                        <Button variant="secondary" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                          Revoke
                        </Button>
                      ) : null}
                    </Td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        )}
      </CardBody>
    </Card>
  );
}
