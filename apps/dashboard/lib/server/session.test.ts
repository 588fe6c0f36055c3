// @vitest-environment node
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiBaseUrl, publicApiUrl } from "./config";
import { apiUnreachable, errorBody, fetchFailure, needsRefresh, REFRESH_MARGIN_SECONDS, tokenExpiry } from "./session";

/** An unsigned JWT-shaped token with these claims (the dashboard never verifies; the API does). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.signature`;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("tokenExpiry", () => {
  it("reads exp from the token's payload", () => {
    expect(tokenExpiry(jwt({ sub: "1", exp: 1_700_000_000 }))).toBe(1_700_000_000);
  });

  it("is null for a token without a numeric exp", () => {
    expect(tokenExpiry(jwt({ sub: "1" }))).toBeNull();
    expect(tokenExpiry(jwt({ exp: "soon" }))).toBeNull();
  });

  it("is null for something that is not a JWT", () => {
    expect(tokenExpiry("not-a-token")).toBeNull();
    expect(tokenExpiry("a.%%%.c")).toBeNull();
    expect(tokenExpiry("")).toBeNull();
  });
});

describe("needsRefresh", () => {
  const now = 1_000_000;

  it("keeps a token with more than the margin left", () => {
    expect(needsRefresh(jwt({ exp: now + REFRESH_MARGIN_SECONDS + 1 }), now)).toBe(false);
    expect(needsRefresh(jwt({ exp: now + 900 }), now)).toBe(false);
  });

  it("refreshes a token within the margin of its expiry (60 s)", () => {
    expect(REFRESH_MARGIN_SECONDS).toBe(60);
    expect(needsRefresh(jwt({ exp: now + REFRESH_MARGIN_SECONDS - 1 }), now)).toBe(true);
    expect(needsRefresh(jwt({ exp: now + 5 }), now)).toBe(true);
  });

  it("refreshes an expired, missing or unreadable token", () => {
    expect(needsRefresh(jwt({ exp: now - 10 }), now)).toBe(true);
    expect(needsRefresh(undefined, now)).toBe(true);
    expect(needsRefresh("garbage", now)).toBe(true);
  });
});

describe("error envelope and failures", () => {
  it("builds the API's error envelope", () => {
    expect(errorBody("api_unreachable", "the API did not answer", "r-9")).toEqual({
      error: { code: "api_unreachable", message: "the API did not answer", field: null, request_id: "r-9" },
    });
  });

  it("answers a 502 api_unreachable naming the API, the missed call and why", async () => {
    vi.stubEnv("QUANT_API_URL", "http://api.internal:9000");
    const direct = apiUnreachable("ECONNREFUSED: connect refused");
    expect(direct.status).toBe(502);
    expect(await direct.json()).toEqual(
      errorBody("api_unreachable", "the API at http://api.internal:9000 did not answer (ECONNREFUSED: connect refused)"),
    );
    const refresh = apiUnreachable("the API answered 503", "the token refresh");
    expect(await refresh.json()).toEqual(
      errorBody("api_unreachable", "the API at http://api.internal:9000 did not answer the token refresh (the API answered 503)"),
    );
  });

  it("names the cause of a failed fetch (undici hides it in cause)", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { code: "ECONNREFUSED" });
    const error = new TypeError("fetch failed", { cause });
    expect(fetchFailure(error)).toBe("ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8000");
    expect(fetchFailure(new Error("plain"))).toBe("plain");
    expect(fetchFailure("text")).toBe("text");
  });
});

describe("API base URL", () => {
  it("prefers QUANT_API_URL, then NEXT_PUBLIC_API_URL, then the local default, without a trailing slash", () => {
    vi.stubEnv("QUANT_API_URL", "http://api.internal:9000/");
    vi.stubEnv("NEXT_PUBLIC_API_URL", "https://api.example.com");
    expect(apiBaseUrl()).toBe("http://api.internal:9000");
    expect(publicApiUrl()).toBe("https://api.example.com");
    vi.stubEnv("QUANT_API_URL", undefined);
    expect(apiBaseUrl()).toBe("https://api.example.com");
    vi.stubEnv("NEXT_PUBLIC_API_URL", undefined);
    expect(apiBaseUrl()).toBe("http://127.0.0.1:8000");
  });
});
