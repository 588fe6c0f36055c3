import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, buildUrl } from "./client";

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("buildUrl", () => {
  it("fills path parameters, encoded, under this app's /api prefix", () => {
    expect(buildUrl("/v1/runs/{run_id}/trades", { run_id: "a b/c" })).toBe("/api/v1/runs/a%20b%2Fc/trades");
  });

  it("drops undefined, null and empty query values and repeats arrays", () => {
    const url = buildUrl("/v1/runs", undefined, {
      status: "",
      strategy_id: undefined,
      type: null,
      page: 2,
      symbols: ["SPY", "QQQ"],
    });
    expect(url).toBe("/api/v1/runs?page=2&symbols=SPY&symbols=QQQ");
  });

  it("has no query string when every value is empty", () => {
    expect(buildUrl("/v1/runs", {}, { status: "" })).toBe("/api/v1/runs");
  });

  it("refuses a template whose path parameter is missing", () => {
    expect(() => buildUrl("/v1/runs/{run_id}", {})).toThrow("missing path parameter run_id");
  });
});

describe("api requests", () => {
  it("GETs the proxied URL same-origin without caching and returns the JSON body", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, { engaged: false }));
    vi.stubGlobal("fetch", fetchMock);
    const state = await api.get("/v1/controls/kill-switch");
    expect(state).toEqual({ engaged: false });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/controls/kill-switch");
    expect(init.method).toBe("GET");
    expect(init.credentials).toBe("same-origin");
    expect(init.cache).toBe("no-store");
    expect(init.body).toBeUndefined();
  });

  it("POSTs a JSON body with its content type", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(202, { id: "r1", status: "queued" }));
    vi.stubGlobal("fetch", fetchMock);
    await api.post("/v1/runs", { body: { strategy_id: "momentum_v1" } as never });
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.method).toBe("POST");
    expect(init.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(String(init.body))).toEqual({ strategy_id: "momentum_v1" });
  });

  it("turns the API's error envelope into an ApiError with status, code, field and request id", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        jsonResponse(422, {
          error: { code: "validation_error", message: "start (2024-06-01) is after end (2024-01-01)", field: "body.end", request_id: "req-42" },
        }),
      ),
    );
    const error = await api.get("/v1/runs").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 422,
      code: "validation_error",
      message: "start (2024-06-01) is after end (2024-01-01)",
      field: "body.end",
      requestId: "req-42",
    });
  });

  it("falls back to the x-request-id header when the envelope has no request id", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(404, { error: { code: "not_found", message: "no such run" } }, { "x-request-id": "hdr-1" })),
    );
    const error = (await api.get("/v1/runs").catch((caught: unknown) => caught)) as ApiError;
    expect(error.requestId).toBe("hdr-1");
    expect(error.field).toBeNull();
  });

  it("says when to retry a rate-limited request (Retry-After)", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        jsonResponse(429, { error: { code: "rate_limited", message: "too many requests" } }, { "retry-after": "7" }),
      ),
    );
    const error = (await api.get("/v1/runs").catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.message).toBe("too many requests (retry in 7 s)");
  });

  it("reports a non-JSON failure by its status line", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>oops</html>", { status: 503, statusText: "Service Unavailable" })));
    const error = (await api.get("/v1/runs").catch((caught: unknown) => caught)) as ApiError;
    expect(error).toMatchObject({ status: 503, code: "http_error", message: "HTTP 503 Service Unavailable" });
  });

  it("turns a success whose body is not JSON into code bad_response, keeping the request id", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("<html>sign in to the proxy</html>", { status: 200, headers: { "x-request-id": "hdr-2" } })),
    );
    const error = (await api.get("/v1/runs").catch((caught: unknown) => caught)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: "bad_response", requestId: "hdr-2" });
    expect(error.message).toContain("GET /api/v1/runs (HTTP 200) was not JSON");
  });

  it("refuses a missing path parameter with an ApiError and sends nothing", async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    const error = (await api
      .get("/v1/runs/{run_id}", { path: {} as never })
      .catch((caught: unknown) => caught)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: "missing_path_parameter", message: "missing path parameter run_id" });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("turns a network failure into code network_error with the reason", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    const error = (await api.get("/v1/runs").catch((caught: unknown) => caught)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
    expect(error.message).toContain("Failed to fetch");
  });
});
