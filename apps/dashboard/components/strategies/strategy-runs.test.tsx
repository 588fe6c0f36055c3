import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NO_METRICS, runRow } from "@/lib/test/fixtures";
import { StrategyRuns } from "./strategy-runs";

const RUNS = [
  runRow("aaaaaaaa-0000-0000-0000-000000000001", "completed", {
    label: "house params",
    is_reference: true,
    params_overrides: { fast: 10 },
    params: { fast: 10, slow: 50 },
    key_metrics: { ...NO_METRICS, total_return: 0.05, annual_return: 0.012, sharpe: -0.254, max_drawdown_pct: 0.1234, win_rate: 0.4, num_trades: 30 },
  }),
  runRow("bbbbbbbb-0000-0000-0000-000000000002", "running"),
  runRow("cccccccc-0000-0000-0000-000000000003", "completed", { key_metrics: { ...NO_METRICS, total_return: 0 } }),
];

function stubApi() {
  const fetchMock = vi.fn(async (input: string) => {
    const url = new URL(input, "http://dashboard.test");
    if (url.pathname === "/api/v1/runs") {
      return new Response(JSON.stringify({ items: RUNS, total: 3, page: 1, per_page: 10 }), { status: 200 });
    }
    return new Response(JSON.stringify({ error: { code: "not_found", message: "no", field: null, request_id: "t" } }), {
      status: 404,
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

function renderRuns() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0, shouldRetryOnError: false }}>
      <StrategyRuns strategyId="momentum_v1" />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("StrategyRuns", () => {
  it("test_strategy_runs_table_shows_return_sharpe_and_drawdown_from_the_listing_rows", async () => {
    const fetchMock = stubApi();
    renderRuns();
    const table = await screen.findByRole("table", { name: "recent runs" });
    const [done, running, flat] = within(table).getAllByRole("row").slice(1);
    const figures = (row: HTMLElement) =>
      within(row)
        .getAllByRole("cell")
        .slice(-3)
        .map((cell) => cell.textContent);
    expect(figures(done!)).toEqual(["+5.00%", "-0.25", "-12.34%"]);
    expect(figures(running!)).toEqual(["—", "—", "—"]);
    expect(figures(flat!)).toEqual(["0.00%", "—", "—"]);
    // one listing request and no read of any single run
    await new Promise((resolve) => setTimeout(resolve, 50));
    const urls = fetchMock.mock.calls.map((c) => String(c[0]));
    expect(urls).toHaveLength(1);
    expect(new URL(urls[0]!, "http://dashboard.test").searchParams.get("strategy")).toBe("momentum_v1");
    expect(urls.filter((u) => u.startsWith("/api/v1/runs/"))).toEqual([]);
  });

  it("test_strategy_runs_table_tells_runs_apart_by_star_label_params_and_dates", async () => {
    stubApi();
    renderRuns();
    const table = await screen.findByRole("table", { name: "recent runs" });
    const [starred, running] = within(table).getAllByRole("row").slice(1);
    expect(within(starred!).getByLabelText("reference run")).toHaveTextContent("★");
    expect(within(starred!).getByText("house params")).toBeInTheDocument();
    expect(within(starred!).getByText("fast=10*")).toHaveAttribute("title", "set by this run's request");
    expect(within(starred!).getByText("slow=50")).toHaveAttribute("title", "the strategy's own value");
    expect(within(starred!).getByText("2010-01-04 → 2018-12-31")).toBeInTheDocument();
    expect(within(running!).queryByLabelText("reference run")).toBeNull();
    expect(within(running!).getByText("2010-01-01 → 2018-12-31")).toBeInTheDocument();
  });
});
