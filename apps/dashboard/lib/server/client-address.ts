import { isIP } from "node:net";

/** Headers with which this server tells the API whose request it forwards (ADR 0016): the API
 * believes the address only next to the secret it shares with this server (QUANT_PROXY_SECRET),
 * so sign-in failures are counted per browser, not all under this server's own address. */
export const PROXY_SECRET_HEADER = "x-quant-proxy-secret";
export const CLIENT_ADDRESS_HEADER = "x-quant-client-address";
const UNKNOWN = "unknown";

/** How many reverse proxies in front of this server append to X-Forwarded-For
 * (QUANT_DASHBOARD_PROXY_HOPS; 0 when `next start` is reached directly). */
export function proxyHops(): number {
  const hops = Number.parseInt(process.env["QUANT_DASHBOARD_PROXY_HOPS"] ?? "0", 10);
  return Number.isFinite(hops) && hops > 0 ? hops : 0;
}

/** "1.2.3.4:5678" and "[::1]:5678", as some proxies write them, without the port. */
function withoutPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed?.[1]) return bracketed[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return v4?.[1] ?? entry;
}

/** The browser's address, or "unknown". Each proxy appends the address it saw, so with N
 * proxies in front the browser is the N-th entry from the right: what a browser writes into the
 * header itself sits further left and is never picked. With none, the one entry is the one
 * `next start` fills in from the connection, but only when the browser sent no X-Forwarded-For
 * of its own (it keeps a browser's header as is): deployments reached from other machines put a
 * reverse proxy in front and set QUANT_DASHBOARD_PROXY_HOPS (docs/deployment.md). */
export function clientAddress(headers: Headers): string {
  const entries = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const picked = entries[entries.length - Math.max(proxyHops(), 1)];
  if (!picked) return UNKNOWN;
  const address = withoutPort(picked);
  return isIP(address) ? address : UNKNOWN;
}

/** The headers that name the browser to the API; none when no proxy secret is configured (the
 * API then counts every browser under this server's address). Never the browser's own
 * X-Forwarded-For. */
export function clientHeaders(headers: Headers): Record<string, string> {
  const secret = process.env["QUANT_PROXY_SECRET"];
  if (!secret) return {};
  return { [PROXY_SECRET_HEADER]: secret, [CLIENT_ADDRESS_HEADER]: clientAddress(headers) };
}
