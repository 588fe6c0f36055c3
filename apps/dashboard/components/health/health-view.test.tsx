import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HealthView } from "./health-view";

const HEALTH = {
  status: "ok",
  version: "0.1.0",
  git_hash: "50040f5",
  time: "2024-03-01T09:30:00Z",
  database: { status: "ok", latency_ms: 3.2, error: null },
  redis: { status: "down", latency_ms: null, error: "ConnectionError: refused" },
  workers: {
    status: "ok",
    count: 1,
    items: [
      {
        id: "vm:4242",
        host: "vm",
        pid: 4242,
        started_at: "2024-03-01T09:00:00Z",
        last_seen: "2024-03-01T09:29:55Z",
        concurrency: 2,
        current_runs: ["80dba32c-c9d2-4ea1-a4b5-06795ef152d1"],
      },
    ],
  },
  queue: { queued: 3, running: 1 },
};

const SERVICES = {
  status: "degraded",
  items: [
    {
      service: "execution",
      instance: "vm:5151",
      state: "missing",
      started_at: "2024-03-01T09:00:00Z",
      last_beat: "2024-03-01T09:28:00Z",
      age_s: 125,
      interval_s: 5,
      metrics_url: "http://127.0.0.1:9102/metrics",
      detail: { broker_connected: false },
    },
    {
      service: "worker",
      instance: "vm:4242",
      state: "ok",
      started_at: "2024-03-01T09:00:00Z",
      last_beat: "2024-03-01T09:29:58Z",
      age_s: 2.4,
      interval_s: 5,
      metrics_url: null,
      detail: {},
    },
  ],
};

function stubFetch(direct: "ok" | "blocked", services: unknown = SERVICES) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      if (url === "/api/v1/health") return new Response(JSON.stringify(HEALTH), { status: 200 });
      if (url === "/api/v1/health/services") return new Response(JSON.stringify(services), { status: 200 });
      if (url === "http://api.test:8000/v1/health") {
        if (direct === "blocked") throw new TypeError("Failed to fetch");
        return new Response(JSON.stringify(HEALTH), { status: 200 });
      }
      return new Response("{}", { status: 404 });
    }),
  );
  return urls;
}

function renderView() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <HealthView apiUrl="http://api.test:8000" />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("HealthView", () => {
  it("test_health_view_proxied_answer_shows_dependencies_workers_and_queue", async () => {
    stubFetch("ok");
    renderView();
    const proxied = screen.getByTestId("health-proxied");
    const workers = await within(proxied).findByRole("table", { name: "workers" });
    expect(within(workers).getByText("4242")).toBeInTheDocument();
    expect(within(workers).getByRole("link", { name: "80dba32c" })).toHaveAttribute(
      "href",
      "/runs/80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
    );
    expect(within(proxied).getByTestId("queue")).toHaveTextContent("3 queued · 1 running");
    const deps = within(proxied).getByRole("table", { name: "dependencies" });
    expect(within(deps).getByText("3.2 ms")).toBeInTheDocument();
    expect(within(deps).getByText("ConnectionError: refused")).toBeInTheDocument();
    expect(within(proxied).getByText(/0\.1\.0 · 50040f5/)).toBeInTheDocument();
  });

  it("test_health_view_direct_probe_blocked_says_blocked_or_unreachable_with_the_reason", async () => {
    const urls = stubFetch("blocked");
    renderView();
    const direct = screen.getByTestId("health-direct");
    const alert = await within(direct).findByRole("alert");
    expect(alert).toHaveTextContent("Blocked or unreachable.");
    expect(alert).toHaveTextContent("Failed to fetch");
    expect(alert).toHaveTextContent("CORS");
    expect(within(alert).getByRole("button", { name: "Retry" })).toBeInTheDocument();
    expect(urls).toContain("http://api.test:8000/v1/health");
    // the proxied probe is independent of the direct one
    expect(await within(screen.getByTestId("health-proxied")).findByRole("table", { name: "workers" })).toBeInTheDocument();
  });

  it("test_health_view_direct_probe_ok_says_reachable", async () => {
    stubFetch("ok");
    renderView();
    const direct = screen.getByTestId("health-direct");
    expect(await within(direct).findByText(/reachable · \d+ ms/)).toBeInTheDocument();
    expect(within(direct).getByText(/database ok, Redis down/)).toBeInTheDocument();
  });

  it("test_health_view_services_show_each_heartbeat_and_metrics_endpoint", async () => {
    stubFetch("ok");
    renderView();
    const card = screen.getByTestId("health-services");
    const table = await within(card).findByRole("table", { name: "services" });
    const rows = within(table).getAllByTestId("service-row");
    expect(rows.map((r) => [r.dataset["service"], r.dataset["state"]])).toEqual([
      ["execution", "missing"],
      ["worker", "ok"],
    ]);
    expect(rows[0]).toHaveTextContent("2 min ago (every 5 s)");
    expect(within(rows[0]!).getByRole("link", { name: "http://127.0.0.1:9102/metrics" })).toHaveAttribute(
      "href",
      "http://127.0.0.1:9102/metrics",
    );
    expect(rows[0]).toHaveTextContent("broker_connected=false");
    expect(rows[1]).toHaveTextContent("2 s ago");
    expect(rows[1]).toHaveTextContent("none announced");
    expect(within(card).getByText("1 missing")).toBeInTheDocument();
  });

  it("test_health_view_no_heartbeats_says_none_were_sent", async () => {
    stubFetch("ok", { status: "ok", items: [] });
    renderView();
    expect(await within(screen.getByTestId("health-services")).findByText("No service has sent a heartbeat yet")).toBeInTheDocument();
  });
});
