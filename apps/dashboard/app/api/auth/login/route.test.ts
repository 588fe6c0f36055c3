// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";
import { type FakeApi, installFakeApi, uninstallFakeApi } from "@/lib/server/fake-api";
import { ACCESS_COOKIE, REFRESH_COOKIE } from "@/lib/server/session";
import { POST } from "./route";

const SECRET = "s".repeat(40);
let api: FakeApi;

beforeEach(() => {
  api = installFakeApi();
  vi.stubEnv("QUANT_PROXY_SECRET", SECRET);
});

afterEach(uninstallFakeApi);

function signIn(password: string, forwardedFor = "203.0.113.7") {
  return POST(
    new NextRequest("http://localhost:3000/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
      body: JSON.stringify({ username: "ana", password }),
    }),
  );
}

describe("POST /api/auth/login", () => {
  it("names the browser's address to the API with the proxy secret, not its X-Forwarded-For", async () => {
    const response = await signIn("right-password");
    expect(response.status).toBe(200);
    const [sent] = api.sent;
    expect(sent?.get("x-quant-proxy-secret")).toBe(SECRET);
    expect(sent?.get("x-quant-client-address")).toBe("203.0.113.7");
    expect(sent?.get("x-forwarded-for")).toBeNull();
  });

  it("stores the tokens in cookies on an answer no cache keeps", async () => {
    const response = await signIn("right-password");
    expect(response.cookies.get(REFRESH_COOKIE)?.value).toBe("refresh-login");
    expect(response.cookies.get(ACCESS_COOKIE)?.httpOnly).toBe(true);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("passes a 429 through with its Retry-After", async () => {
    api.loginRefusal = "rate_limited";
    const response = await signIn("wrong");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("42");
    expect(await response.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(response.cookies.get(REFRESH_COOKIE)).toBeUndefined();
  });
});
