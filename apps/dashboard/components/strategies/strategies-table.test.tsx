import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StrategiesTable } from "./strategies-table";

const STRATEGIES = [
  {
    id: "momentum_v1",
    class_path: "quant_strategy.builtin.momentum:SmaCrossover",
    description: "SMA crossover (20/50)",
    status: "active",
    mode: "PAPER",
    universe: ["SP500"],
    timeframe: "1d",
    benchmark: "SP500",
    updated_at: "2024-03-01T09:30:00Z",
    is_benchmark: false,
    headline_run: {
      id: "80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
      basis: "latest_completed",
      label: null,
      params: { fast: 20, slow: 50 },
      capital: "100000",
      type: "backtest",
      status: "completed",
      finished_at: "2024-03-02T10:00:00Z",
      metrics: { total_return: 0.1234, sharpe: 1.5, max_drawdown_pct: 0.087, num_trades: 12 },
    },
  },
  {
    id: "buy_and_hold",
    class_path: "quant_strategy.builtin.buy_and_hold:BuyAndHold",
    description: "Buy and hold",
    status: "paused",
    mode: "BACKTEST",
    universe: ["SPY", "QQQ"],
    timeframe: "1d",
    benchmark: null,
    updated_at: "2024-03-01T09:30:00Z",
    is_benchmark: true,
    headline_run: null,
  },
];

function stubFetch(status: number, body: unknown) {
  const fetchMock = vi.fn<(url: string) => Promise<Response>>(async () => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

function renderTable() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0, shouldRetryOnError: false }}>
      <StrategiesTable />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("StrategiesTable", () => {
  it("test_strategies_table_api_answer_renders_one_linked_row_per_strategy_with_metrics", async () => {
    const fetchMock = stubFetch(200, STRATEGIES);
    renderTable();
    const table = await screen.findByRole("table", { name: "strategies" });
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/v1/strategies");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);

    const first = within(rows[0]!);
    expect(first.getByRole("link", { name: "momentum_v1" })).toHaveAttribute("href", "/strategies/momentum_v1");
    expect(first.getByText("active")).toBeInTheDocument();
    expect(first.getByText("PAPER")).toBeInTheDocument();
    expect(first.getByText("SP500")).toBeInTheDocument();
    expect(first.getByText("12.34%")).toBeInTheDocument();
    expect(first.getByText("1.50")).toBeInTheDocument();
    expect(first.getByText("-8.70%")).toBeInTheDocument();
    expect(first.getByRole("link", { name: /2024-03-02 10:00 UTC/ })).toHaveAttribute(
      "href",
      "/runs/80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
    );

    const second = within(rows[1]!);
    expect(second.getByRole("link", { name: "buy_and_hold" })).toHaveAttribute("href", "/strategies/buy_and_hold");
    expect(second.getByText("SPY, QQQ")).toBeInTheDocument();
    expect(second.getByText("no completed run")).toBeInTheDocument();
  });

  it("test_strategies_table_says_whether_the_headline_is_the_reference_run_or_the_latest", async () => {
    const starred = {
      ...STRATEGIES[0]!,
      headline_run: { ...STRATEGIES[0]!.headline_run!, basis: "reference", label: "house params" },
    };
    stubFetch(200, [STRATEGIES[0], { ...starred, id: "momentum_v2" }, STRATEGIES[1]]);
    renderTable();
    const table = await screen.findByRole("table", { name: "strategies" });
    const [fallback, reference, benchmark] = within(table).getAllByRole("row").slice(1);
    const latest = within(fallback!).getByText("latest (no reference)");
    expect(latest).toHaveAttribute("title", expect.stringMatching(/^No reference run starred: the latest completed backtest/));
    expect(within(reference!).getByText("★ reference · house params")).toHaveAttribute(
      "title",
      "Reference run “house params” (starred ★)",
    );
    expect(within(benchmark!).getByText("benchmark")).toBeInTheDocument();
    expect(within(fallback!).queryByText("benchmark")).toBeNull();
  });

  it("test_strategies_table_api_error_shows_what_failed_and_retries", async () => {
    const fetchMock = stubFetch(502, {
      error: { code: "api_unreachable", message: "the API at http://127.0.0.1:8000 did not answer", field: null, request_id: "" },
    });
    renderTable();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load strategies.");
    expect(alert).toHaveTextContent("did not answer");
    fetchMock.mockImplementation(async () => new Response(JSON.stringify(STRATEGIES), { status: 200 }));
    within(alert).getByRole("button", { name: "Retry" }).click();
    expect(await screen.findByRole("link", { name: "momentum_v1" })).toBeInTheDocument();
  });

  it("test_strategies_table_no_strategies_shows_empty_state", async () => {
    stubFetch(200, []);
    renderTable();
    expect(await screen.findByText("No strategies yet")).toBeInTheDocument();
    expect(screen.queryByRole("table")).toBeNull();
  });
});
