// @vitest-environment node
import { NextRequest } from "next/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { accessToken, type FakeApi, installFakeApi, tokenName, uninstallFakeApi, withCookies } from "@/lib/server/fake-api";
import { ACCESS_COOKIE, REFRESH_COOKIE } from "@/lib/server/session";
import { GET, PUT } from "./route";

function proxied(cookies: Record<string, string>): NextRequest {
  return withCookies("http://localhost:3000/api/v1/runs", cookies);
}

const context = { params: Promise.resolve({ path: ["runs"] }) };
let api: FakeApi;

beforeEach(() => {
  api = installFakeApi();
});

afterEach(uninstallFakeApi);

describe("the /api/v1 proxy's refresh", () => {
  it("stores the rotated refresh token with the new access token", async () => {
    const cookies = { [ACCESS_COOKIE]: accessToken("old", 30), [REFRESH_COOKIE]: "refresh-0" };
    const response = await GET(proxied(cookies), context);
    expect(response.status).toBe(200);
    expect(response.cookies.get(REFRESH_COOKIE)?.value).toBe("refresh-1");
    expect(tokenName(response.cookies.get(ACCESS_COOKIE)?.value)).toBe("access-for-refresh-1");
    const [forwarded] = api.callsTo("/v1/runs");
    expect(forwarded?.authorization).toMatch(/^Bearer /);
    expect(tokenName(forwarded?.authorization)).toBe("access-for-refresh-1");
  });

  it("keeps the user signed in when two requests refresh the same token at once", async () => {
    const cookies = { [ACCESS_COOKIE]: accessToken("old", 30), [REFRESH_COOKIE]: "refresh-0" };
    const [first, second] = await Promise.all([GET(proxied(cookies), context), GET(proxied(cookies), context)]);
    expect(api.callsTo("/v1/auth/refresh").map((call) => call.body)).toEqual([
      { refresh_token: "refresh-0" },
      { refresh_token: "refresh-0" },
    ]);
    for (const response of [first, second]) {
      expect(response.status).toBe(200);
      expect(response.cookies.get(REFRESH_COOKIE)?.value).toBe("refresh-1");
    }
    expect(api.live).toEqual(new Set(["refresh-1"]));
  });

  it("keeps the session through an API outage at refresh time: a 502, the cookies untouched", async () => {
    api.down = true;
    const cookies = { [ACCESS_COOKIE]: accessToken("old", 30), [REFRESH_COOKIE]: "refresh-0" };
    const response = await GET(proxied(cookies), context);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "api_unreachable" } });
    expect(response.cookies.get(REFRESH_COOKIE)).toBeUndefined();
    expect(response.cookies.get(ACCESS_COOKIE)).toBeUndefined();
    api.down = false;
    const recovered = await GET(proxied(cookies), context);
    expect(recovered.status).toBe(200);
    expect(recovered.cookies.get(REFRESH_COOKIE)?.value).toBe("refresh-1");
  });

  it("signs the user out when the API says the refresh token was reused", async () => {
    await GET(proxied({ [REFRESH_COOKIE]: "refresh-0" }), context);
    const replay = await GET(proxied({ [REFRESH_COOKIE]: "refresh-0" }), context);
    // the fake's grace window covers a replay only while the successor is live: use it up first
    await GET(proxied({ [REFRESH_COOKIE]: "refresh-1" }), context);
    const late = await GET(proxied({ [REFRESH_COOKIE]: "refresh-0" }), context);
    expect(replay.status).toBe(200);
    expect(late.status).toBe(401);
    expect(late.cookies.get(REFRESH_COOKIE)).toMatchObject({ value: "", maxAge: 0 });
    expect(api.callsTo("/v1/runs")).toHaveLength(3);
  });
});

describe("the /api/v1 proxy's client address", () => {
  it("names the browser to the API with the proxy secret and drops the browser's X-Forwarded-For", async () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "s".repeat(40));
    const cookies = { [ACCESS_COOKIE]: accessToken("fresh", 600), [REFRESH_COOKIE]: "refresh-0" };
    const request = withCookies("http://localhost:3000/api/v1/runs", cookies, "GET", {
      "x-forwarded-for": "203.0.113.7",
    });
    const response = await GET(request, context);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const sent = api.sent[api.calls.findIndex((call) => new URL(call.url).pathname === "/v1/runs")];
    expect(sent?.get("x-quant-client-address")).toBe("203.0.113.7");
    expect(sent?.get("x-quant-proxy-secret")).toBe("s".repeat(40));
    expect(sent?.get("x-forwarded-for")).toBeNull();
  });

  it("sends the address on the token refresh too", async () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "s".repeat(40));
    const request = withCookies("http://localhost:3000/api/v1/runs", { [REFRESH_COOKIE]: "refresh-0" }, "GET", {
      "x-forwarded-for": "198.51.100.4",
    });
    await GET(request, context);
    const refresh = api.calls.findIndex((call) => new URL(call.url).pathname === "/v1/auth/refresh");
    expect(api.sent[refresh]?.get("x-quant-client-address")).toBe("198.51.100.4");
  });

  it("sends no address header without a proxy secret", async () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "");
    const cookies = { [ACCESS_COOKIE]: accessToken("fresh", 600) };
    await GET(withCookies("http://localhost:3000/api/v1/runs", cookies, "GET", { "x-forwarded-for": "1.2.3.4" }), context);
    expect(api.sent[0]?.get("x-quant-client-address")).toBeNull();
    expect(api.sent[0]?.get("x-forwarded-for")).toBeNull();
  });
});

describe("the /api/v1 proxy's methods", () => {
  it("forwards a PUT with its JSON body (the kill switch's set-mode)", async () => {
    const cookie = `${ACCESS_COOKIE}=${accessToken("fresh", 600)}; ${REFRESH_COOKIE}=refresh-0`;
    const request = new NextRequest("http://localhost:3000/api/v1/controls/kill-switch", {
      method: "PUT",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ mode: "reduce_only", reason: "drill" }),
    });
    const response = await PUT(request, { params: Promise.resolve({ path: ["controls", "kill-switch"] }) });
    expect(response.status).toBe(200);
    const [sent] = api.callsTo("/v1/controls/kill-switch");
    expect(sent?.method).toBe("PUT");
    expect(sent?.body).toEqual({ mode: "reduce_only", reason: "drill" });
  });
});
