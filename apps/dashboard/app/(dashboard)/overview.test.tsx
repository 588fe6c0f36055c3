import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MetricsSummary } from "@/lib/api/hooks";
import { Overview } from "./overview";

// the chart's canvas is the browser tests' business; here only which lines it is given
const charted: { name: string; first: number | undefined }[][] = [];
vi.mock("@/components/charts/lazy", () => ({
  LineChart: ({ label, lines }: { label: string; lines: { name: string; points: { value: number }[] }[] }) => {
    charted.push(lines.map((l) => ({ name: l.name, first: l.points[0]?.value })));
    return <div role="img" aria-label={label} />;
  },
}));

type Headline = MetricsSummary["strategies"][number];

function headline(strategy: string, extra: Partial<Headline> = {}): Headline {
  return {
    strategy_id: strategy,
    is_benchmark: false,
    basis: "latest_completed",
    run_id: "aaaaaaaa-0000-4000-8000-000000000001",
    run_type: "backtest",
    label: null,
    capital: 100000,
    start: "2010-01-04T00:00:00Z",
    end: "2018-12-31T00:00:00Z",
    start_equity: 100000,
    end_equity: 130000,
    pnl: 30000,
    total_return: 0.3,
    sharpe: 0.81,
    periods_per_year: 252,
    max_drawdown: 0.12,
    win_rate: 0.5,
    closed_trades: 12,
    equity_curve: [
      { ts: "2010-01-04T00:00:00Z", equity: 100000 },
      { ts: "2018-12-31T00:00:00Z", equity: 130000 },
    ],
    ...extra,
  };
}

const BACKTESTS: MetricsSummary = {
  period: "all",
  mode: "BACKTEST",
  strategies: [
    headline("momentum_v1", { basis: "reference", label: "house params" }),
    headline("crypto_v1", { run_id: "cccccccc-0000-4000-8000-000000000003", capital: 5000, pnl: -250, periods_per_year: 365 }),
  ],
  benchmarks: [headline("buy_and_hold", { is_benchmark: true, run_id: "bbbbbbbb-0000-4000-8000-000000000002", pnl: 90000 })],
  without_results: ["mean_reversion_v1"],
  aggregate_note: "Backtests are not added up: each ran on its own capital and dates.",
};

function stubApi(summaries: Record<string, MetricsSummary>) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string) => {
      const url = new URL(input, "http://dashboard.test");
      const body =
        url.pathname === "/api/v1/metrics/summary"
          ? summaries[url.searchParams.get("mode") ?? "BACKTEST"]
          : { items: [], total: 0, page: 1, per_page: 5 };
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    }),
  );
}

function renderOverview() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <Overview />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("Overview", () => {
  it("test_overview_lists_each_strategys_own_run_and_the_benchmark_apart_with_no_total", async () => {
    stubApi({ BACKTEST: BACKTESTS });
    renderOverview();
    const strategies = await screen.findByRole("table", { name: "strategy headlines" });
    const rows = within(strategies).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell")[0]!.textContent)).toEqual([
      "momentum_v1aaaaaaaa ★ reference · house params",
      "crypto_v1cccccccc latest (no reference)",
    ]);
    // each in its own money: no sum of 30,000 and -250 anywhere
    expect(within(rows[1]!).getByText("-250.00")).toHaveClass("text-red-700");
    expect(within(rows[1]!).getByText("5,000")).toBeInTheDocument();
    expect(within(rows[1]!).getByTitle(/annualised with 365 periods per year/)).toHaveTextContent("0.81");
    expect(screen.queryByText(/Total PnL/)).toBeNull();
    const benchmarks = screen.getByRole("table", { name: "benchmark headlines" });
    expect(within(benchmarks).getByText("buy_and_hold")).toBeInTheDocument();
    expect(within(strategies).queryByText("buy_and_hold")).toBeNull();
    expect(screen.getByTestId("aggregate-note")).toHaveTextContent("Backtests are not added up");
    expect(screen.getByText("No backtest result yet: mean_reversion_v1.")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "headline equity curves" })).toBeInTheDocument();
    // every curve from 1 at its own start, the benchmark named as one
    expect(charted.at(-1)).toEqual([
      { name: "momentum_v1", first: 1 },
      { name: "crypto_v1", first: 1 },
      { name: "buy_and_hold (benchmark)", first: 1 },
    ]);
  });

  it("test_overview_paper_mode_says_there_is_no_paper_account_instead_of_a_sum", async () => {
    stubApi({
      BACKTEST: BACKTESTS,
      PAPER: {
        ...BACKTESTS,
        mode: "PAPER",
        strategies: [],
        benchmarks: [],
        without_results: ["momentum_v1"],
        aggregate_note: "No paper account exists yet, so there is no paper total.",
      },
    });
    renderOverview();
    await screen.findByRole("table", { name: "strategy headlines" });
    await userEvent.selectOptions(screen.getByLabelText("mode"), "PAPER");
    expect(await screen.findByText("No paper account exists yet, so there is no paper total.")).toBeInTheDocument();
    expect(screen.getByText("No paper results yet")).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "strategy headlines" })).toBeNull();
  });
});
