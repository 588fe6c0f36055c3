import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunView } from "./run-view";

vi.mock("lightweight-charts", () => ({
  createChart: vi.fn(),
  createSeriesMarkers: vi.fn(),
  AreaSeries: {},
  LineSeries: {},
  CandlestickSeries: {},
  ColorType: { Solid: "solid" },
}));

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const RUNNING = {
  id: "run-1",
  strategy_id: "momentum_v1",
  type: "walk_forward",
  status: "running",
  progress: 0.42,
  processed: 42,
  total: 100,
  message: "grid 42/100",
  cancel_requested: false,
  created_by: 1,
  created_at: "2024-03-01T10:00:00Z",
  started_at: "2024-03-01T10:00:01Z",
  finished_at: null,
  config: { universe: ["SP500"] },
  backtest_config: {},
  repro: { seed: 0, code_version: "quant-backtest 0.1.0", data_fingerprint: "d813" },
  metrics: {},
  error: null,
  attempts: 1,
};

function stubApi(role: string, run: Record<string, unknown> = RUNNING) {
  const posts: string[] = [];
  const fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://dashboard.test");
    if (init?.method === "POST") {
      posts.push(url.pathname);
      return json({ id: "run-1", status: "running", cancel_requested: true });
    }
    if (url.pathname === "/api/v1/auth/me") return json({ id: 1, username: role, role });
    if (url.pathname === "/api/v1/runs/run-1") return json(run);
    if (url.pathname === "/api/v1/models" && url.searchParams.get("run_id") === "run-1") {
      const model = { id: 7, name: "synthetic_direction", version: 3, stage: "candidate" };
      return json({ items: [model], total: 1, page: 1, per_page: 50 });
    }
    if (url.pathname === "/api/v1/runs/run-1/windows") {
      return json({ run_id: "run-1", status: run.status, windows: [], pbo: null, deflated_sharpe: null, efficiency: null, parameter_stability: [], out_of_sample_metrics: null });
    }
    return json({ error: { code: "not_found", message: url.pathname, field: null, request_id: "t" } }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return posts;
}

function renderRun() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <RunView id="run-1" />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("RunView", () => {
  it("test_run_page_of_a_completed_train_run_links_its_model_and_shows_no_backtest_results", async () => {
    const train = { ...RUNNING, strategy_id: null, type: "train", status: "completed", progress: 1, message: "registered synthetic_direction v3 (#7) as a candidate", finished_at: "2024-03-01T10:01:00Z", config: { name: "synthetic_direction" } };
    stubApi("viewer", train);
    renderRun();
    expect(await screen.findByRole("heading", { level: 1, name: "model training · train" })).toBeInTheDocument();
    const link = await screen.findByTestId("trained-model");
    expect(link).toHaveAttribute("href", "/models/7");
    expect(link).toHaveTextContent("synthetic_direction v3 (#7) · candidate");
    expect(screen.queryByRole("heading", { name: "Trades" })).toBeNull();
    expect(screen.queryByRole("region", { name: "metrics" })).toBeNull();
    expect(screen.queryByText("Trades CSV")).toBeNull(); // nothing traded, nothing to export
  });

  it("test_run_page_shows_title_progress_and_a_cancel_for_traders", async () => {
    const posts = stubApi("trader");
    renderRun();
    expect(await screen.findByRole("heading", { level: 1, name: "momentum_v1 · walk-forward" })).toBeInTheDocument();
    const bar = screen.getByRole("progressbar");
    expect(bar).toHaveAttribute("aria-valuenow", "42");
    expect(screen.getByText("grid 42/100")).toBeInTheDocument();
    expect(screen.getByText("42% · 42/100")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 2, name: "Walk-forward windows" })).toBeInTheDocument();
    await userEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(posts).toEqual(["/api/v1/runs/run-1/cancel"]));
  });

  it("test_run_page_has_no_cancel_for_viewers", async () => {
    stubApi("viewer");
    renderRun();
    await screen.findByRole("progressbar");
    await waitFor(() => expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull());
  });

  it("test_failed_run_shows_its_error_text", async () => {
    stubApi("viewer", { ...RUNNING, type: "backtest", status: "failed", error: "ConfigError: unknown symbol 'ZZZZ'" });
    renderRun();
    const error = await screen.findByTestId("run-error");
    expect(within(error).getByText("ConfigError: unknown symbol 'ZZZZ'")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("momentum_v1 · backtest");
  });
});
