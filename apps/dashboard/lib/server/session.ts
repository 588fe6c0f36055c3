import { NextResponse, type NextRequest } from "next/server";
import { clientHeaders } from "./client-address";
import { apiBaseUrl } from "./config";

/** httpOnly cookies that hold the API's tokens; page scripts never see them (ADR 0011). */
export const ACCESS_COOKIE = "quant_access";
export const REFRESH_COOKIE = "quant_refresh";
/** Refresh when the access token has less than this left, so no request races its expiry. */
export const REFRESH_MARGIN_SECONDS = 60;
const REFRESH_MAX_AGE = 7 * 24 * 3600;
/** An auth call that takes longer than this has failed (sign-out then still clears the cookies). */
const AUTH_TIMEOUT_MS = 10_000;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** Seconds since the epoch at which a JWT expires, read from its payload (not verified: the API
 * verifies; this only decides when to refresh). Null when the token cannot be read. */
export function tokenExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      exp?: unknown;
    };
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

export function needsRefresh(token: string | undefined, nowSeconds = Date.now() / 1000): boolean {
  if (!token) return true;
  const exp = tokenExpiry(token);
  return exp === null || exp - nowSeconds < REFRESH_MARGIN_SECONDS;
}

function secure(request: NextRequest): boolean {
  const forwarded = request.headers.get("x-forwarded-proto");
  return (forwarded ?? request.nextUrl.protocol.replace(":", "")) === "https";
}

export function setTokenCookies(request: NextRequest, response: NextResponse, pair: TokenPair): void {
  const base = { httpOnly: true, sameSite: "lax" as const, path: "/", secure: secure(request) };
  response.cookies.set(ACCESS_COOKIE, pair.access_token, { ...base, maxAge: pair.expires_in });
  response.cookies.set(REFRESH_COOKIE, pair.refresh_token, { ...base, maxAge: REFRESH_MAX_AGE });
}

/** Answers that set or clear the token cookies are never kept by a browser or proxy cache. */
export function noStore(response: NextResponse): NextResponse {
  response.headers.set("cache-control", "no-store");
  return response;
}

export function clearTokenCookies(response: NextResponse): void {
  response.cookies.set(ACCESS_COOKIE, "", { path: "/", maxAge: 0 });
  response.cookies.set(REFRESH_COOKIE, "", { path: "/", maxAge: 0 });
}

/** POST a JSON body to an auth route of the API for the browser whose request `incoming` is (its
 * address goes along, ADR 0016), with a bearer token for the routes that need one; returns its
 * status and parsed body (null for an empty one, such as logout's 204). */
export async function postAuth(
  incoming: Headers,
  path: string,
  body: unknown,
  bearer?: string,
): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const headers: Record<string, string> = { "content-type": "application/json", ...clientHeaders(incoming) };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const response = await fetch(`${apiBaseUrl()}/v1/auth/${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    cache: "no-store",
    signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: { code: "bad_gateway", message: text.slice(0, 200), field: null } };
  }
  return { status: response.status, body: parsed, retryAfter: response.headers.get("retry-after") };
}

/** A usable access token for this request: the cookie's, or a fresh one from the refresh token.
 * `refreshed` is set when new tokens must be written back as cookies: the API rotates refresh
 * tokens, so the cookie's is used up once this returns a pair (ADR 0014). Two requests that
 * refresh with the same cookie at once both get the same pair: the API answers a token presented
 * again within its grace window with the pair it already issued for it.
 * `unavailable` says why no token could be had when the API did not answer the refresh (down,
 * timed out, 5xx): the session may still be good, so callers must not sign the user out then. */
export async function accessToken(
  request: NextRequest,
): Promise<{ token: string | null; refreshed: TokenPair | null; unavailable?: string }> {
  const current = request.cookies.get(ACCESS_COOKIE)?.value;
  if (current && !needsRefresh(current)) return { token: current, refreshed: null };
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  if (!refreshToken) return { token: current ?? null, refreshed: null };
  let answer: { status: number; body: unknown };
  try {
    answer = await postAuth(request.headers, "refresh", { refresh_token: refreshToken });
  } catch (error) {
    return { token: null, refreshed: null, unavailable: fetchFailure(error) };
  }
  if (answer.status >= 500) return { token: null, refreshed: null, unavailable: `the API answered ${answer.status}` };
  if (answer.status !== 200) return { token: null, refreshed: null };
  const pair = answer.body as TokenPair;
  return { token: pair.access_token, refreshed: pair };
}

export function errorBody(code: string, message: string, requestId = ""): unknown {
  return { error: { code, message, field: null, request_id: requestId } };
}

/** The 502 a route handler answers when the API did not answer: `reason` says why (fetchFailure's
 * words), `call` which call it missed when that is not the request itself ("the token refresh"). */
export function apiUnreachable(reason: string, call = ""): NextResponse {
  const missed = call ? ` ${call}` : "";
  return NextResponse.json(errorBody("api_unreachable", `the API at ${apiBaseUrl()} did not answer${missed} (${reason})`), {
    status: 502,
  });
}

/** Why a fetch to the API failed, in a few words (undici hides the reason in `cause`). */
export function fetchFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}
