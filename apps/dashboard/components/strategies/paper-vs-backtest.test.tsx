import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NO_PAPER_SESSION, NO_SESSION_POINTS, PaperVsBacktest, curveFacts } from "./paper-vs-backtest";

vi.mock("lightweight-charts", () => {
  const chart = () => ({
    addSeries: () => ({ setData: () => undefined }),
    timeScale: () => ({ fitContent: () => undefined }),
    remove: () => undefined,
  });
  return {
    createChart: vi.fn(chart),
    AreaSeries: {},
    LineSeries: {},
    ColorType: { Solid: "solid" },
    LineStyle: { Solid: 0, Dashed: 2 },
  };
});

const PAPER = { id: "aaaaaaaa-0000-4000-8000-000000000001", strategy_id: "momentum_v1", status: "running", type: "paper", started_at: "2026-12-07T10:00:00Z", created_at: "2026-12-07T10:00:00Z" };
const BACKTEST = { ...PAPER, id: "bbbbbbbb-0000-4000-8000-000000000002", status: "completed", type: "backtest" };

function equity(runId: string, values: number[]) {
  return {
    run_id: runId,
    total_points: values.length,
    points: values.map((equity, i) => ({ ts: `2018-01-0${i + 1}T21:00:00Z`, equity, cash: 0, positions_value: equity })),
  };
}

function fakeApi({ papers, backtests, paperPoints = [] as number[], orders = 0 }: { papers: unknown[]; backtests: unknown[]; paperPoints?: number[]; orders?: number }) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      const page = (items: unknown[]) => reply({ items, total: items.length, page: 1, per_page: 1 });
      if (url.startsWith("/api/v1/runs?") && url.includes("type=paper")) return page(papers);
      if (url.startsWith("/api/v1/runs?")) return page(backtests);
      if (url.startsWith(`/api/v1/runs/${PAPER.id}/equity`)) return reply(equity(PAPER.id, paperPoints));
      if (url.startsWith(`/api/v1/runs/${BACKTEST.id}/equity`)) return reply(equity(BACKTEST.id, [100000, 90000, 110000]));
      if (url.startsWith("/api/v1/orders?")) return reply({ items: [], total: orders, page: 1, per_page: 1 });
      throw new Error(`unexpected ${url}`);
    }),
  );
  return urls;
}

function renderCard() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <PaperVsBacktest strategyId="momentum_v1" />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("PaperVsBacktest", () => {
  it("test_paper_vs_backtest_without_a_session_says_how_to_start_one_beside_the_backtest", async () => {
    const urls = fakeApi({ papers: [], backtests: [BACKTEST] });
    renderCard();
    expect(await screen.findByText(NO_PAPER_SESSION)).toBeInTheDocument();
    const backtest = await screen.findByTestId("backtest-panel-facts");
    expect(backtest).toHaveTextContent("2018-01-01 .. 2018-01-03 · 3 points · 100,000.00 → 110,000.00 (+10.00%)");
    expect(urls).toContain("/api/v1/runs?strategy=momentum_v1&type=paper&per_page=1");
    expect(urls).toContain("/api/v1/runs?strategy=momentum_v1&type=backtest&status=completed&per_page=1");
    expect(urls.some((u) => u.startsWith("/api/v1/orders"))).toBe(false);
  });

  it("test_paper_vs_backtest_session_without_points_says_so_with_its_order_count", async () => {
    fakeApi({ papers: [PAPER], backtests: [BACKTEST], orders: 12 });
    renderCard();
    const panel = await screen.findByTestId("paper-panel");
    expect(await within(panel).findByText(NO_SESSION_POINTS)).toBeInTheDocument();
    expect(await within(panel).findByText(/12 orders so far/)).toBeInTheDocument();
    expect(within(panel).getByText("running")).toBeInTheDocument();
  });

  it("test_paper_vs_backtest_session_with_points_shows_its_curve_and_change", async () => {
    fakeApi({ papers: [PAPER], backtests: [BACKTEST], paperPoints: [100000, 95000] });
    renderCard();
    const facts = await screen.findByTestId("paper-panel-facts");
    expect(facts).toHaveTextContent("100,000.00 → 95,000.00 (-5.00%)");
    expect(screen.getByRole("link", { name: "aaaaaaaa" })).toHaveAttribute("href", `/runs/${PAPER.id}`);
  });

  it("test_curve_facts_of_an_empty_curve_is_null_and_of_a_zero_start_has_no_change", () => {
    expect(curveFacts([])).toBeNull();
    expect(curveFacts([{ time: 1 as never, value: 0 }, { time: 2 as never, value: 5 }])).toEqual({ first: 0, last: 5, change: null });
  });
});
