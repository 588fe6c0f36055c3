import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readingGuide, WalkForwardSection } from "./walk-forward";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function window(index: number, extra: Record<string, unknown> = {}) {
  return {
    index,
    in_sample_start: `${2000 + index}-01-01`,
    in_sample_end: `${2002 + index}-12-31`,
    out_of_sample_start: `${2003 + index}-01-01`,
    out_of_sample_end: `${2003 + index}-12-31`,
    status: "ok",
    reason: null,
    chosen_params: { fast: 10, slow: 200 },
    in_sample_score: 0.1274,
    out_of_sample_score: -0.0738,
    trade_count: 4,
    in_sample_metrics: null,
    out_of_sample_metrics: null,
    in_sample_deflated_sharpe: 0.11,
    plateau: 1.2,
    start_equity: 100000,
    end_equity: 99000,
    in_sample_scores: [],
    in_sample_trade_counts: [],
    ...extra,
  };
}

const WINDOWS = {
  run_id: "wf-1",
  status: "completed",
  windows: [
    window(1),
    window(2, {
      status: "skipped",
      reason: "no combination made 3 trades in sample",
      chosen_params: null,
      in_sample_score: null,
      out_of_sample_score: null,
      trade_count: null,
    }),
  ],
  pbo: { pbo: 0.1746, n_combinations: 12870, n_splits: 16, prob_oos_loss: 0.02, degradation_slope: -1 },
  deflated_sharpe: { dsr: 0.8963, sharpe: 0.036, benchmark_sharpe: 0.016, n_trials: 25, skew: -0.4, kurtosis: 7.8, n_obs: 4078 },
  efficiency: 0.838,
  parameter_stability: [{ name: "fast", values: [10, null], distinct: 1, mean_step_change: 0, normalised_change: 0 }],
  out_of_sample_metrics: null,
};

function renderSection(status = "completed") {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <WalkForwardSection runId="wf-1" status={status} />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("WalkForwardSection", () => {
  it("test_windows_table_shows_params_scores_trades_and_skipped_reasons", async () => {
    const fetchMock = vi.fn(async (input: string) => json({ ...WINDOWS, run_id: input.split("/")[4] }));
    vi.stubGlobal("fetch", fetchMock);
    renderSection();
    expect(screen.getByRole("heading", { level: 2, name: "Walk-forward windows" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "walk-forward windows" });
    expect(String(fetchMock.mock.calls[0]![0])).toBe("/api/v1/runs/wf-1/windows");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText("fast=10, slow=200")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("0.127")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("-0.074")).toHaveClass("text-red-700");
    expect(within(rows[0]!).getByText("4")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("ok")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("2001-01-01 → 2003-12-31")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("skipped")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("no combination made 3 trades in sample")).toBeInTheDocument();
  });

  it("test_windows_statistics_show_pbo_dsr_efficiency_with_reading_guides", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(WINDOWS)));
    renderSection();
    const stats = await screen.findByTestId("walk-forward-stats");
    expect(stats).toHaveTextContent("17.5%");
    expect(stats).toHaveTextContent("89.6%");
    expect(stats).toHaveTextContent("0.84");
    expect(stats).toHaveTextContent(readingGuide("pbo", 0.1746));
    expect(stats).toHaveTextContent(readingGuide("dsr", 0.8963));
    expect(screen.getByTestId("walk-forward-timeline")).toBeInTheDocument();
  });

  it("test_windows_of_a_running_run_are_empty_until_it_completes", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json({ ...WINDOWS, status: "running", windows: [], pbo: null, deflated_sharpe: null, efficiency: null, parameter_stability: [] })));
    renderSection("running");
    expect(await screen.findByText("No windows yet")).toBeInTheDocument();
    expect(screen.getByText("They appear when the run completes.")).toBeInTheDocument();
  });

  it("test_reading_guides_follow_the_values", () => {
    expect(readingGuide("pbo", 0.7)).toMatch(/likely overfit/);
    expect(readingGuide("dsr", 0.97)).toMatch(/^Strong/);
    expect(readingGuide("efficiency", -0.2)).toMatch(/did not carry over/);
    expect(readingGuide("pbo", null)).toMatch(/Not computed/);
  });
});

describe("WalkForwardSection after completion", () => {
  it("test_windows_read_while_running_are_read_again_when_the_run_completes", async () => {
    let status = "running";
    const fetchMock = vi.fn(async (input: string) =>
      json(
        status === "running"
          ? { ...WINDOWS, run_id: input, status: "running", windows: [], pbo: null, deflated_sharpe: null, efficiency: null, parameter_stability: [] }
          : WINDOWS,
      ),
    );
    vi.stubGlobal("fetch", fetchMock);
    const view = render(
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <WalkForwardSection runId="wf-1" status="running" />
      </SWRConfig>,
    );
    expect(await screen.findByText("No windows yet")).toBeInTheDocument();
    status = "completed";
    view.rerender(
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <WalkForwardSection runId="wf-1" status="completed" />
      </SWRConfig>,
    );
    expect(await screen.findByRole("table", { name: "walk-forward windows" })).toBeInTheDocument();
  });
});

describe("WalkForwardSection parameter heatmap", () => {
  it("test_the_heatmap_draws_the_grid_scores_and_outlines_the_chosen_cells", async () => {
    const surface = {
      objective: "sharpe",
      x_title: "slow",
      y_title: "fast",
      x: ["50", "100"],
      y: ["10", "20"],
      z: [
        [0.512, null],
        [-0.25, 1.1],
      ],
      chosen: [{ row: 1, column: 1, windows: 2 }],
      by_window: false,
      caption: "Mean in-sample sharpe across windows for each (fast, slow) pair",
    };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: string) =>
        json(input.includes("/analytics") ? { run_id: "wf-1", status: "completed", parameter_surface: surface } : WINDOWS),
      ),
    );
    renderSection();
    const table = await screen.findByRole("table", { name: "parameter heatmap" });
    const rows = within(table).getAllByRole("row");
    expect(rows.map((r) => r.textContent)).toEqual(["fast \\ slow50100", "100.51—", "20-0.251.102×"]);
    expect(table.querySelector("[data-chosen]")).toHaveTextContent("1.102×");
    expect(screen.getByText("In-sample sharpe over the grid")).toBeInTheDocument();
  });
});
