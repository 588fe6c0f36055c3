import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EquityCharts } from "./run-charts";

// lightweight-charts needs a canvas jsdom does not have: a chart that records its series
vi.mock("lightweight-charts", () => {
  const chart = () => ({
    addSeries: () => ({ setData: () => undefined }),
    timeScale: () => ({ fitContent: () => undefined }),
    remove: () => undefined,
  });
  return {
    createChart: vi.fn(chart),
    createSeriesMarkers: vi.fn(),
    AreaSeries: {},
    LineSeries: {},
    CandlestickSeries: {},
    ColorType: { Solid: "solid" },
    LineStyle: { Solid: 0, Dashed: 2 },
  };
});

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function failure(status: number): Response {
  return json({ error: { code: status === 404 ? "not_found" : "unavailable", message: `the API said ${status}`, field: null, request_id: "r-1" } }, status);
}

const EQUITY = {
  run_id: "run-1",
  total_points: 5031,
  points: [
    { ts: "2008-09-30T00:00:00Z", equity: 100000, cash: 0, positions_value: 100000 },
    { ts: "2008-10-10T00:00:00Z", equity: 68000, cash: 0, positions_value: 68000 },
    { ts: "2008-10-31T00:00:00Z", equity: 83100, cash: 0, positions_value: 83100 },
  ],
};

const months = (values: Record<number, number>) => Array.from({ length: 12 }, (_, m) => values[m + 1] ?? null);

const ANALYTICS = {
  run_id: "run-1",
  status: "completed",
  total_points: 5031,
  periods_per_year: 252,
  monthly_returns: [{ year: 2008, months: months({ 9: -0.091, 10: -0.16912 }) }],
  drawdown: { total_points: 5031, points: [{ ts: "2008-10-10T00:00:00Z", value: -0.32 }] },
  rolling_sharpe: { total_points: 4905, window: 126, points: [{ ts: "2008-10-10T00:00:00Z", value: -1.5 }] },
  exposure: { total_points: 5031, points: [{ ts: "2008-10-10T00:00:00Z", value: 1 }] },
  benchmark: { symbol: "SP500", total_points: 5031, points: [{ ts: "2008-10-10T00:00:00Z", value: 70000 }] },
  benchmark_note: null,
  parameter_surface: null,
};

/** Answers per path; each entry is the list of answers in order (the last one repeats). */
function stubApi(answers: Record<string, (() => Response)[]>) {
  const calls: Record<string, number> = {};
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string) => {
      const path = new URL(input, "http://dashboard.test").pathname;
      const list = answers[path] ?? [() => failure(404)];
      const n = calls[path] ?? 0;
      calls[path] = n + 1;
      return list[Math.min(n, list.length - 1)]!();
    }),
  );
  return calls;
}

function renderCharts() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <EquityCharts runId="run-1" />
    </SWRConfig>,
  );
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("EquityCharts", () => {
  it("test_monthly_returns_are_the_servers_cells_printed_as_the_report_prints_them", async () => {
    stubApi({ "/api/v1/runs/run-1/equity": [() => json(EQUITY)], "/api/v1/runs/run-1/analytics": [() => json(ANALYTICS)] });
    renderCharts();
    const table = await screen.findByRole("table", { name: "monthly returns" });
    // the server's full-series figure, not the downsampled curve's -32% (68000 / 100000 - 1)
    expect(within(table).getByText("-16.9%")).toHaveAttribute("data-cell", "2008-10");
    expect(within(table).getByText("-9.1%")).toHaveAttribute("data-cell", "2008-09");
    expect(table.querySelector('[data-cell="2008-01"]')).toHaveTextContent("");
    expect(screen.getByTestId("drawdown-card")).toHaveTextContent("deepest -32%");
    expect(screen.getByTestId("rolling-sharpe-card")).toHaveTextContent("trailing 126 returns");
    // the equity chart is labelled with its benchmark overlay
    const legend = await screen.findByRole("list", { name: "legend" });
    expect(within(legend).getByText("Strategy")).toBeInTheDocument();
    expect(within(legend).getByText("Buy & hold SP500")).toBeInTheDocument();
  });

  it("test_a_run_without_a_stored_benchmark_says_so_on_the_equity_card", async () => {
    const note = "this run stored no SP500 benchmark curve: runs stored before benchmark curves were kept have none (run it again to see it)";
    stubApi({
      "/api/v1/runs/run-1/equity": [() => json(EQUITY)],
      "/api/v1/runs/run-1/analytics": [() => json({ ...ANALYTICS, benchmark: null, benchmark_note: note })],
    });
    renderCharts();
    await screen.findByRole("table", { name: "monthly returns" });
    expect(screen.getByTestId("equity-card")).toHaveTextContent(note);
  });

  it("test_a_transient_failure_shows_an_error_and_is_retried_on_its_own", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = stubApi({
      "/api/v1/runs/run-1/equity": [() => failure(502), () => json(EQUITY)],
      "/api/v1/runs/run-1/analytics": [() => failure(503), () => failure(503), () => json(ANALYTICS)],
    });
    renderCharts();
    const alerts = await screen.findAllByRole("alert");
    expect(alerts.map((a) => a.textContent)).toEqual(
      expect.arrayContaining([expect.stringContaining("Could not load the equity curve"), expect.stringContaining("Could not load the run's statistics")]),
    );
    expect(screen.getAllByRole("button", { name: "Retry" })).toHaveLength(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(8_000);
    });
    expect(await screen.findByRole("table", { name: "monthly returns" })).toBeInTheDocument();
    expect(screen.getByTestId("equity-card")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(calls).toMatchObject({ "/api/v1/runs/run-1/equity": 2, "/api/v1/runs/run-1/analytics": 3 });
  });

  it("test_retries_stop_after_three_and_the_retry_button_asks_again", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let down = true;
    const calls = stubApi({
      "/api/v1/runs/run-1/equity": [() => json(EQUITY)],
      "/api/v1/runs/run-1/analytics": [() => (down ? failure(504) : json(ANALYTICS))],
    });
    renderCharts();
    await screen.findByText(/Could not load the run's statistics/);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(calls["/api/v1/runs/run-1/analytics"]).toBe(4); // the first read and three retries
    expect(screen.getByText(/Asked again on its own up to 3 times \(after 1, 2, 4 s\)/)).toBeInTheDocument();
    down = false;
    vi.useRealTimers();
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("table", { name: "monthly returns" })).toBeInTheDocument();
    expect(calls["/api/v1/runs/run-1/analytics"]).toBe(5);
  });

  it("test_an_answer_that_waiting_will_not_change_is_not_retried", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = stubApi({
      "/api/v1/runs/run-1/equity": [() => failure(404)],
      "/api/v1/runs/run-1/analytics": [() => json(ANALYTICS)],
    });
    renderCharts();
    await screen.findByText(/Could not load the equity curve/);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
    });
    expect(calls["/api/v1/runs/run-1/equity"]).toBe(1);
    expect(screen.getByText(/Not asked again on its own/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("table", { name: "monthly returns" })).toBeInTheDocument());
  });
});
