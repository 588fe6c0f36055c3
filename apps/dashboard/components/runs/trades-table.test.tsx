import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TradesTable } from "./trades-table";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function trade(n: number, pnl: string) {
  return {
    trade_id: `t-${n}`,
    symbol: "SP500",
    direction: n % 2 ? "long" : "short",
    quantity: 76,
    entry_time: "2001-03-16T00:00:00Z",
    entry_price: 1307.686385005,
    exit_time: n === 3 ? null : "2001-06-03T00:00:00Z",
    exit_price: n === 3 ? null : "1298.240498961",
    gross_pnl: pnl,
    commission: 2.00,
    pnl,
    bars_held: 55,
    mfe: n === 2 ? null : 30.5,
    mae: n === 2 ? null : -12.25,
    given_back: n === 2 ? null : -40,
    status: n === 3 ? "open" : "closed",
    excursion_pct: n === 2 ? { mfe: null, mae: null, given_back: null } : { mfe: 0.0233, mae: -0.0094, given_back: -0.0306 },
    excursion_value: n === 2 ? { mfe: null, mae: null, given_back: null } : { mfe: 2318, mae: -931, given_back: -3040 },
  };
}

function renderTable() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <TradesTable runId="run-1" />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("TradesTable", () => {
  it("test_trades_table_shows_each_trade_with_signed_pnl_and_open_exits", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => json({ items: [trade(1, "-719.8873"), trade(2, "2211.5"), trade(3, "0")], total: 3, page: 1, per_page: 25 })),
    );
    renderTable();
    const table = await screen.findByRole("table", { name: "trades" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(3);
    expect(within(rows[0]!).getByText("-719.89")).toHaveClass("text-red-700");
    expect(within(rows[1]!).getByText("2,211.50")).toHaveClass("text-emerald-700");
    expect(within(rows[1]!).getByText("short")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("1,307.69")).toBeInTheDocument();
    expect(within(rows[2]!).getByText("open")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("2.3% / -0.9%")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("n/a")).toHaveAttribute("title", "stored before excursions were measured");
  });

  it("test_trades_table_labels_an_open_trade_open_and_its_pnl_unrealised", async () => {
    const held = { ...trade(3, "103478.28"), direction: "long" };
    vi.stubGlobal("fetch", vi.fn(async () => json({ items: [trade(1, "-5"), held], total: 2, page: 1, per_page: 25 })));
    renderTable();
    const table = await screen.findByRole("table", { name: "trades" });
    const [closed, open] = within(table).getAllByRole("row").slice(1);
    expect(within(open!).getByText("open")).toBeInTheDocument();
    expect(within(open!).getByText("held at the end")).toBeInTheDocument();
    expect(within(open!).getByText("103,478.28")).toBeInTheDocument();
    expect(within(open!).getByText("unrealised")).toBeInTheDocument();
    expect(within(closed!).queryByText("unrealised")).toBeNull();
    expect(within(closed!).queryByText("open")).toBeNull();
  });

  it("test_trades_table_next_page_requests_page_2_of_the_run", async () => {
    const fetchMock = vi.fn(async (input: string) => {
      const page = Number(new URL(input, "http://dashboard.test").searchParams.get("page"));
      return json({ items: [trade(page * 100, "10")], total: 60, page, per_page: 25 });
    });
    vi.stubGlobal("fetch", fetchMock);
    renderTable();
    await screen.findByRole("table", { name: "trades" });
    expect(String(fetchMock.mock.calls[0]![0])).toBe("/api/v1/runs/run-1/trades?page=1&per_page=25");
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() =>
      expect(fetchMock.mock.calls.map((c) => String(c[0]))).toContain("/api/v1/runs/run-1/trades?page=2&per_page=25"),
    );
    expect(await screen.findByText("page 2 of 3")).toBeInTheDocument();
  });

  it("test_trades_table_without_trades_says_so", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json({ items: [], total: 0, page: 1, per_page: 25 })));
    renderTable();
    expect(await screen.findByText("No trades")).toBeInTheDocument();
  });

  it("test_trades_table_failure_shows_the_error_and_retries", async () => {
    let calls = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        calls += 1;
        return calls === 1
          ? json({ error: { code: "internal", message: "database down", field: null, request_id: "r-9" } }, 503)
          : json({ items: [trade(1, "5")], total: 1, page: 1, per_page: 25 });
      }),
    );
    render(
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0, shouldRetryOnError: false }}>
        <TradesTable runId="run-1" />
      </SWRConfig>,
    );
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load trades.");
    expect(alert).toHaveTextContent("database down");
    await userEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("table", { name: "trades" })).toBeInTheDocument();
  });
});
