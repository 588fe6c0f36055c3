import { act, render, screen, waitFor } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ACTIVE_RUN_POLL_MS, FINISHING_RUN_POLL_MS, runPollMs, swrDefaults, useApi, useKillSwitch, YOUNG_RUN_POLL_MS } from "./hooks";

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
}

/** A fetch that answers after `delayMs` and records how many calls were in flight at once. */
function slowFetch(delayMs: number) {
  const stats = { calls: 0, inFlight: 0, maxInFlight: 0, urls: [] as string[] };
  const fetchMock = vi.fn(async (url: string) => {
    stats.calls += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    stats.urls.push(url);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    stats.inFlight -= 1;
    return json({ engaged: false, reason: "", changed_by: null, changed_at: "2024-01-02T00:00:00Z", n: stats.calls });
  });
  return { stats, fetchMock };
}

function Fresh({ children }: { children: React.ReactNode }) {
  // a cache per test, with the app's own defaults (no polling while hidden, dedupe)
  return <SWRConfig value={{ ...swrDefaults, provider: () => new Map() }}>{children}</SWRConfig>;
}

function setVisibility(state: "visible" | "hidden") {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => setVisibility("visible"));
afterEach(() => {
  vi.unstubAllGlobals();
  setVisibility("visible");
});

describe("useApi", () => {
  it("requests the template with its path and query parameters filled in", async () => {
    const fetchMock = vi.fn(async () => json({ run_id: "r-1", total_points: 0, points: [] }));
    vi.stubGlobal("fetch", fetchMock);
    function Probe() {
      const { data } = useApi("/v1/runs/{run_id}/equity", { path: { run_id: "r-1" }, query: { points: 500 } });
      return <p>{data ? `points ${data.total_points}` : "loading"}</p>;
    }
    render(
      <Fresh>
        <Probe />
      </Fresh>,
    );
    expect(await screen.findByText("points 0")).toBeInTheDocument();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe("/api/v1/runs/r-1/equity?points=500");
  });

  it("does not request anything while the template is null", async () => {
    const fetchMock = vi.fn(async () => json({}));
    vi.stubGlobal("fetch", fetchMock);
    function Probe() {
      const { data, isLoading } = useApi(null);
      return <p>{data === undefined && !isLoading ? "paused" : "busy"}</p>;
    }
    render(
      <Fresh>
        <Probe />
      </Fresh>,
    );
    expect(await screen.findByText("paused")).toBeInTheDocument();
    await sleep(50);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("surfaces the API's error as an ApiError", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        new Response(JSON.stringify({ error: { code: "forbidden", message: "admins only", field: null, request_id: "q1" } }), {
          status: 403,
        }),
      ),
    );
    function Probe() {
      const { error } = useApi("/v1/controls/kill-switch", {}, { shouldRetryOnError: false });
      return <p>{error ? `${error.status} ${error.code}: ${error.message}` : "…"}</p>;
    }
    render(
      <Fresh>
        <Probe />
      </Fresh>,
    );
    expect(await screen.findByText("403 forbidden: admins only")).toBeInTheDocument();
  });
});

describe("polling", () => {
  it("never has two identical requests in flight when the API answers slower than the poll interval", async () => {
    const { stats, fetchMock } = slowFetch(120);
    vi.stubGlobal("fetch", fetchMock);
    function Poller() {
      const { data } = useApi("/v1/controls/kill-switch", {}, { refreshInterval: 20, dedupingInterval: 0 });
      return <p>{data ? "loaded" : "loading"}</p>;
    }
    // two components on the same key: SWR shares one request between them
    render(
      <Fresh>
        <Poller />
        <Poller />
      </Fresh>,
    );
    await act(async () => {
      await sleep(800);
    });
    expect(stats.calls).toBeGreaterThanOrEqual(3); // it does keep polling
    expect(stats.calls).toBeLessThanOrEqual(7); // ~one per (answer + interval), not one per interval
    expect(stats.maxInFlight).toBe(1);
    expect(new Set(stats.urls)).toEqual(new Set(["/api/v1/controls/kill-switch"]));
  });

  it("does not poll while the tab is hidden and resumes when it is visible again", async () => {
    const { stats, fetchMock } = slowFetch(1);
    vi.stubGlobal("fetch", fetchMock);
    function Poller() {
      const { data } = useApi("/v1/controls/kill-switch", {}, { refreshInterval: 25, dedupingInterval: 0 });
      return <p>{data ? "loaded" : "loading"}</p>;
    }
    render(
      <Fresh>
        <Poller />
      </Fresh>,
    );
    expect(await screen.findByText("loaded")).toBeInTheDocument();
    act(() => setVisibility("hidden"));
    await act(async () => {
      await sleep(60); // let a poll that was already due finish
    });
    const whileHidden = stats.calls;
    await act(async () => {
      await sleep(300); // ~12 intervals
    });
    expect(stats.calls).toBe(whileHidden);
    act(() => setVisibility("visible"));
    await waitFor(() => expect(stats.calls).toBeGreaterThan(whileHidden + 1), { timeout: 1000 });
  });

  it("the app's defaults keep polling off while hidden and dedupe identical requests", () => {
    expect(swrDefaults.refreshWhenHidden).toBe(false);
    expect(swrDefaults.refreshWhenOffline).toBe(false);
    expect(swrDefaults.dedupingInterval).toBeGreaterThan(0);
  });

  it("the kill-switch hook polls the kill-switch state", async () => {
    const { stats, fetchMock } = slowFetch(1);
    vi.stubGlobal("fetch", fetchMock);
    function Probe() {
      const { data } = useKillSwitch();
      return <p>{data ? (data.engaged ? "engaged" : "armed") : "…"}</p>;
    }
    render(
      <Fresh>
        <Probe />
      </Fresh>,
    );
    expect(await screen.findByText("armed")).toBeInTheDocument();
    expect(stats.urls).toEqual(["/api/v1/controls/kill-switch"]);
  });
});

describe("run polling", () => {
  const created = "2024-03-01T10:00:00Z";
  const at = (seconds: number) => Date.parse(created) + seconds * 1000;

  it("test_a_run_is_polled_fast_while_young_or_finishing_and_not_once_finished", () => {
    expect(runPollMs({ status: "queued", progress: 0, created_at: created }, at(3))).toBe(YOUNG_RUN_POLL_MS);
    expect(runPollMs({ status: "running", progress: 0.4, created_at: created }, at(60))).toBe(ACTIVE_RUN_POLL_MS);
    expect(runPollMs({ status: "running", progress: 1, created_at: created }, at(600))).toBe(FINISHING_RUN_POLL_MS);
    expect(runPollMs({ status: "completed", progress: 1, created_at: created }, at(1))).toBe(0);
    expect(runPollMs(undefined)).toBe(ACTIVE_RUN_POLL_MS);
  });
});
