import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Run } from "@/lib/api/hooks";
import { runRow } from "@/lib/test/fixtures";
import { type Parity, RunParity } from "./run-parity";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const PAPER = { ...runRow("paper-1", "completed"), type: "paper" } as unknown as Run;
const BACKTEST = runRow("bt-0002", "completed", { label: "5y SP500" });

function side(id: string, type: "paper" | "backtest") {
  return {
    id,
    name: `${type} ${id}`,
    type,
    strategy_id: "momentum_v1",
    status: "completed",
    created_at: "2024-03-01T10:00:00Z",
    orders: 3,
    steps: type === "paper" ? null : 1258,
    final_equity: 104213.5,
  } as const;
}

const IDENTICAL: Parity = {
  run: side("paper-1", "paper"),
  against: side("bt-0001", "backtest"),
  identical: true,
  summary: "identical: 3 orders, final equity 104213.50",
  orders: 3,
  counts: { identical: 3 },
  notes: ["paper paper-1 stored no steps: an order only the other run has cannot be told apart from a missed bar"],
  differences: [],
  truncated: false,
};

const DIFFERENT: Parity = {
  ...IDENTICAL,
  against: side("bt-0002", "backtest"),
  identical: false,
  summary: "2 differences over 3 orders: different fill price 1, rejected 1",
  counts: { identical: 1, "different fill price": 1, rejected: 1 },
  differences: [
    {
      client_order_id: "momentum_v1-abc-20160301-000001",
      decided_at: "2016-03-01T21:00:00Z",
      symbol: "SP500",
      verdict: "different fill price",
      detail: "paper paper-1: 2000.25; backtest bt-0002: 2000.75",
    },
    {
      client_order_id: "momentum_v1-abc-20160302-000001",
      decided_at: "2016-03-02T21:00:00Z",
      symbol: "SP500",
      verdict: "rejected",
      detail: "backtest bt-0002: POSITION_QTY_CAP (over the cap)",
    },
  ],
  truncated: true,
};

function stubApi(answers: Record<string, Response | (() => Response)>) {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string) => {
      const url = new URL(input, "http://dashboard.test");
      calls.push(`${url.pathname}${url.search}`);
      if (url.pathname === "/api/v1/runs") {
        return json({ items: [runRow("paper-1", "completed"), BACKTEST], total: 2, page: 1, per_page: 50 });
      }
      const against = url.searchParams.get("against") ?? "";
      const answer = answers[against];
      if (answer === undefined) throw new Error(`unexpected ${input}`);
      return typeof answer === "function" ? answer() : answer.clone();
    }),
  );
  return calls;
}

function renderParity(run: Run = PAPER) {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <RunParity run={run} />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("RunParity", () => {
  it("test_run_parity_of_a_paper_session_asks_for_the_default_backtest_and_says_identical", async () => {
    const calls = stubApi({ "": json(IDENTICAL) });
    renderParity();
    expect(await screen.findByTestId("parity-verdict")).toHaveTextContent("identical");
    expect(screen.getByText(/identical: 3 orders, final equity 104213.50/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "bt-0001" })).toHaveAttribute("href", "/runs/bt-0001");
    expect(screen.getByText(/stored no steps/)).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "parity differences" })).toBeNull();
    expect(calls).toContain("/api/v1/runs/paper-1/parity");
    expect(screen.getByRole("option", { name: "latest backtest" })).toBeInTheDocument();
  });

  it("test_run_parity_picking_another_run_lists_each_difference_with_its_verdict", async () => {
    const calls = stubApi({ "": json(IDENTICAL), "bt-0002": json(DIFFERENT) });
    renderParity();
    await screen.findByTestId("parity-verdict");
    const picker = screen.getByLabelText("Compare with");
    // the run itself is not offered; its strategy's other completed runs are, by label or id
    expect(within(picker).queryByRole("option", { name: /paper-1/ })).toBeNull();
    await userEvent.selectOptions(picker, "bt-0002");
    const table = await screen.findByRole("table", { name: "parity differences" });
    expect(calls).toContain("/api/v1/runs/paper-1/parity?against=bt-0002");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText("different fill price")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("paper paper-1: 2000.25; backtest bt-0002: 2000.75")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("rejected")).toBeInTheDocument();
    expect(within(rows[1]!).getByText(/POSITION_QTY_CAP/)).toBeInTheDocument();
    expect(screen.getByTestId("parity-verdict")).toHaveTextContent("different");
    expect(screen.getByText(/first 2 differences are shown/)).toBeInTheDocument();
  });

  it("test_run_parity_with_nothing_to_compare_says_so_and_offers_the_picker", async () => {
    const missing = { error: { code: "not_found", message: "no completed run of momentum_v1 to compare run paper-1 with: pass `against`", field: "query.against", request_id: "r" } };
    stubApi({ "": json(missing, 404), "bt-0002": json(DIFFERENT) });
    renderParity();
    expect(await screen.findByText("Nothing to compare with")).toBeInTheDocument();
    expect(screen.getByText(/no completed run of momentum_v1/)).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText("Compare with"), "bt-0002");
    await waitFor(() => expect(screen.getByTestId("parity-verdict")).toHaveTextContent("different"));
  });

  it("test_run_parity_shows_an_error_with_retry_when_the_report_fails", async () => {
    const failed = { error: { code: "unavailable", message: "the database is unreachable", field: null, request_id: "r-9" } };
    stubApi({ "": json(failed, 503) });
    renderParity({ ...PAPER, type: "backtest" } as Run);
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not load the parity report.");
    expect(screen.getByRole("option", { name: "latest paper session" })).toBeInTheDocument();
  });
});
