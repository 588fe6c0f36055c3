// @vitest-environment node
import type { NextRequest, NextResponse } from "next/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { accessToken, type FakeApi, installFakeApi, tokenName, uninstallFakeApi, withCookies } from "@/lib/server/fake-api";
import { ACCESS_COOKIE, REFRESH_COOKIE } from "@/lib/server/session";
import { POST } from "./route";

function signOut(cookies: Record<string, string>): NextRequest {
  return withCookies("http://localhost:3000/api/auth/logout", cookies, "POST");
}

function expectCookiesCleared(response: NextResponse): void {
  for (const name of [ACCESS_COOKIE, REFRESH_COOKIE]) {
    expect(response.cookies.get(name)).toMatchObject({ value: "", maxAge: 0 });
  }
}

let api: FakeApi;

beforeEach(() => {
  api = installFakeApi();
});

afterEach(uninstallFakeApi);

describe("POST /api/auth/logout", () => {
  it("asks the API to revoke the session's refresh token with the access token, then clears the cookies", async () => {
    const access = accessToken("a", 600);
    const response = await POST(signOut({ [ACCESS_COOKIE]: access, [REFRESH_COOKIE]: "refresh-0" }));
    expect(await response.json()).toEqual({ ok: true, revoked: true });
    expect(api.calls).toEqual([
      {
        url: "http://api.test/v1/auth/logout",
        method: "POST",
        authorization: `Bearer ${access}`,
        body: { refresh_token: "refresh-0" },
      },
    ]);
    expectCookiesCleared(response);
  });

  it("refreshes an expiring access token first and names the rotated refresh token, not the used-up one", async () => {
    const response = await POST(signOut({ [ACCESS_COOKIE]: accessToken("a", 10), [REFRESH_COOKIE]: "refresh-0" }));
    expect(await response.json()).toEqual({ ok: true, revoked: true });
    const [refresh] = api.callsTo("/v1/auth/refresh");
    expect(refresh?.body).toEqual({ refresh_token: "refresh-0" });
    const [logout] = api.callsTo("/v1/auth/logout");
    expect(logout?.body).toEqual({ refresh_token: "refresh-1" });
    expect(logout?.authorization).toMatch(/^Bearer /);
    expect(tokenName(logout?.authorization)).toBe("access-for-refresh-1");
    // the fresh pair is not written back: the session ends here
    expectCookiesCleared(response);
  });

  it("still clears the cookies and answers ok when the API cannot be reached", async () => {
    api.down = true;
    const response = await POST(signOut({ [ACCESS_COOKIE]: accessToken("a", 600), [REFRESH_COOKIE]: "refresh-0" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, revoked: false });
    expect(api.callsTo("/v1/auth/logout")).toHaveLength(1);
    expectCookiesCleared(response);
  });

  it("still clears the cookies and answers ok when the API answers 401", async () => {
    api.logoutStatus = 401;
    const response = await POST(signOut({ [ACCESS_COOKIE]: accessToken("a", 600), [REFRESH_COOKIE]: "refresh-0" }));
    expect(await response.json()).toEqual({ ok: true, revoked: false });
    expectCookiesCleared(response);
  });

  it("does not call logout when the refresh token is already dead, and clears the cookies", async () => {
    const response = await POST(signOut({ [REFRESH_COOKIE]: "revoked-elsewhere" }));
    expect(await response.json()).toEqual({ ok: true, revoked: false });
    expect(api.callsTo("/v1/auth/refresh")).toHaveLength(1);
    expect(api.callsTo("/v1/auth/logout")).toEqual([]);
    expectCookiesCleared(response);
  });

  it("names the browser's address to the API and answers no-store", async () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "s".repeat(40));
    const request = withCookies(
      "http://localhost:3000/api/auth/logout",
      { [ACCESS_COOKIE]: accessToken("a", 600), [REFRESH_COOKIE]: "refresh-0" },
      "POST",
      { "x-forwarded-for": "203.0.113.9" },
    );
    const response = await POST(request);
    expect(api.sent[0]?.get("x-quant-client-address")).toBe("203.0.113.9");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("calls nothing without a session", async () => {
    const response = await POST(signOut({}));
    expect(await response.json()).toEqual({ ok: true, revoked: false });
    expect(api.calls).toEqual([]);
    expectCookiesCleared(response);
  });
});
