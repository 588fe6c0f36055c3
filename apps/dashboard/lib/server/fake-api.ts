// A stand-in for the API's auth routes in route-handler tests: it rotates refresh tokens the way
// the API does (a token presented again within the grace window gets the pair it already got,
// later it is reuse and the whole sign-in is revoked) and records every call it receives.
import { NextRequest } from "next/server";
import { vi } from "vitest";

/** An unsigned JWT-shaped token with these claims (the dashboard never verifies; the API does). */
export function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.signature`;
}

/** The `jti` of a token this module made (or of "Bearer <token>"): which token it is, whatever
 * second it was made in (its `exp` follows the clock, so whole strings made apart can differ). */
export function tokenName(token: string | null | undefined): string | null {
  const payload = token?.replace(/^Bearer /, "").split(".")[1];
  if (!payload) return null;
  return (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: string }).jti ?? null;
}

export function accessToken(name: string, secondsLeft: number): string {
  return jwt({ sub: "1", typ: "access", jti: name, exp: Math.floor(Date.now() / 1000) + secondsLeft });
}

export interface Call {
  url: string;
  method: string;
  authorization: string | null;
  body: unknown;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function envelope(status: number, code: string): Response {
  return json(status, { error: { code, message: code, field: null, request_id: "r-1" } });
}

export class FakeApi {
  readonly calls: Call[] = [];
  /** The headers of each call, in the order of `calls`. */
  readonly sent: Headers[] = [];
  /** refresh token -> the token it was exchanged for */
  private readonly exchanged = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private issued = 0;
  /** When set, every call fails the way an unreachable server does. */
  down = false;
  /** Status logout answers (204 when live). */
  logoutStatus = 204;
  /** How login refuses a password other than "right-password". */
  loginRefusal: "invalid_credentials" | "rate_limited" = "invalid_credentials";

  constructor(readonly live: Set<string> = new Set(["refresh-0"])) {}

  install(): void {
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => this.handle(input, init));
  }

  private async handle(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = String(input);
    const headers = new Headers(init?.headers);
    const body: unknown = typeof init?.body === "string" ? JSON.parse(init.body) : null;
    this.calls.push({ url, method: init?.method ?? "GET", authorization: headers.get("authorization"), body });
    this.sent.push(headers);
    // a real API answers after a network round trip: let concurrent requests interleave
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.down) throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
    const path = new URL(url).pathname;
    if (path === "/v1/auth/refresh") return this.refresh((body as { refresh_token: string }).refresh_token);
    if (path === "/v1/auth/login") {
      const { password } = body as { password?: string };
      if (password !== "right-password") {
        return new Response(JSON.stringify({ error: { code: this.loginRefusal, message: "no", field: null, request_id: "r-2" } }), {
          status: this.loginRefusal === "rate_limited" ? 429 : 401,
          headers: { "content-type": "application/json", "retry-after": "42" },
        });
      }
      return json(200, this.pair("refresh-login"));
    }
    if (path === "/v1/auth/logout") {
      return this.logoutStatus === 204 ? new Response(null, { status: 204 }) : envelope(this.logoutStatus, "x");
    }
    return json(200, { items: [], total: 0 });
  }

  private refresh(token: string): Response {
    const successor = this.exchanged.get(token);
    if (successor !== undefined && this.live.has(successor)) return json(200, this.pair(successor));
    if (successor !== undefined || this.revoked.has(token)) return envelope(401, "token_reused");
    if (!this.live.has(token)) return envelope(401, "token_revoked");
    this.issued += 1;
    const next = `refresh-${this.issued}`;
    this.live.delete(token);
    this.live.add(next);
    this.exchanged.set(token, next);
    return json(200, this.pair(next));
  }

  private pair(refresh: string): unknown {
    const access = accessToken(`access-for-${refresh}`, 900);
    return { access_token: access, refresh_token: refresh, token_type: "bearer", expires_in: 900 };
  }

  callsTo(path: string): Call[] {
    return this.calls.filter((call) => new URL(call.url).pathname === path);
  }
}

/** A FakeApi answering for QUANT_API_URL; call in beforeEach, with `uninstallFakeApi` after. */
export function installFakeApi(): FakeApi {
  vi.stubEnv("QUANT_API_URL", "http://api.test");
  const api = new FakeApi();
  api.install();
  return api;
}

export function uninstallFakeApi(): void {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
}

/** A request to the dashboard's server carrying these cookies (and any other headers). */
export function withCookies(
  url: string,
  cookies: Record<string, string>,
  method = "GET",
  headers: Record<string, string> = {},
): NextRequest {
  const cookie = Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
  return new NextRequest(url, { method, headers: { cookie, ...headers } });
}
