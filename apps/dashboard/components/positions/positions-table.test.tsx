import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EMPTY_POSITIONS, PositionsTable } from "./positions-table";

function position(id: number) {
  return {
    id,
    run_id: "80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
    strategy_id: "momentum_v1",
    symbol: `SYM${id}`,
    quantity: 10,
    avg_price: 100.5,
    realized_pnl: -5,
    last_price: 110,
    market_value: 1100,
    unrealized_pnl: 95,
    updated_at: "2024-03-01T09:30:00Z",
  };
}

/** A fake /api/v1/positions that pages over `total` positions like the API does. */
function fakePositions(total: number) {
  const urls: string[] = [];
  const fetchMock = vi.fn(async (url: string) => {
    urls.push(url);
    const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (url === "/api/v1/strategies") return reply([]);
    if (url.startsWith("/api/v1/runs?")) return reply({ items: [], total: 0, page: 1, per_page: 50 });
    const query = new URL(url, "http://dashboard").searchParams;
    const page = Number(query.get("page") ?? 1);
    const perPage = Number(query.get("per_page") ?? 50);
    const all = Array.from({ length: total }, (_, i) => position(i + 1));
    return reply({ items: all.slice((page - 1) * perPage, page * perPage), total, page, per_page: perPage });
  });
  vi.stubGlobal("fetch", fetchMock);
  return urls;
}

function renderTable(props: React.ComponentProps<typeof PositionsTable> = {}) {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <PositionsTable {...props} />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("PositionsTable", () => {
  it("test_positions_table_no_positions_shows_empty_state_naming_paper_or_live", async () => {
    fakePositions(0);
    renderTable();
    expect(await screen.findByText(EMPTY_POSITIONS)).toBeInTheDocument();
    expect(EMPTY_POSITIONS).toBe("No positions yet - they appear once a strategy trades in paper or live mode");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("test_positions_table_more_than_a_page_paginates_with_next_and_previous", async () => {
    const urls = fakePositions(7);
    const user = userEvent.setup();
    renderTable({ perPage: 3 });
    const table = await screen.findByRole("table", { name: "positions" });
    expect(within(table).getAllByRole("row")).toHaveLength(4);
    expect(within(table).getByText("SYM1")).toBeInTheDocument();
    const pager = () => screen.getByRole("navigation", { name: "pagination" });
    expect(pager()).toHaveTextContent("1–3 of 7");
    expect(pager()).toHaveTextContent("page 1 of 3");

    await user.click(within(pager()).getByRole("button", { name: "Next" }));
    expect(await screen.findByText("SYM4")).toBeInTheDocument();
    expect(screen.queryByText("SYM1")).toBeNull();
    expect(urls).toContain("/api/v1/positions?page=2&per_page=3");

    await user.click(within(pager()).getByRole("button", { name: "Next" }));
    expect(await screen.findByText("SYM7")).toBeInTheDocument();
    expect(pager()).toHaveTextContent("7–7 of 7");
    expect(within(pager()).getByRole("button", { name: "Next" })).toBeDisabled();

    await user.click(within(pager()).getByRole("button", { name: "Previous" }));
    expect(await screen.findByText("SYM4")).toBeInTheDocument();
  });

  it("test_positions_table_row_shows_quantity_cost_value_and_pnl", async () => {
    fakePositions(1);
    renderTable();
    const row = within((await screen.findAllByRole("row"))[1]!);
    expect(row.getByText("SYM1")).toBeInTheDocument();
    expect(row.getByText("10")).toBeInTheDocument();
    expect(row.getByText("100.50")).toBeInTheDocument();
    expect(row.getByText("1,100.00")).toBeInTheDocument();
    expect(row.getByText("95.00")).toHaveClass("text-emerald-700");
    expect(row.getByText("-5.00")).toHaveClass("text-red-700");
  });

  it("test_positions_table_open_only_filter_is_sent_and_resets_to_page_one", async () => {
    const urls = fakePositions(7);
    const user = userEvent.setup();
    renderTable({ strategy: "momentum_v1", perPage: 3 });
    await screen.findByRole("table", { name: "positions" });
    expect(urls).toContain("/api/v1/positions?strategy=momentum_v1&page=1&per_page=3");
    expect(screen.queryByRole("combobox", { name: "strategy" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("SYM4");
    await user.click(screen.getByRole("checkbox", { name: "open positions only" }));
    await screen.findByText("SYM1");
    expect(urls).toContain("/api/v1/positions?strategy=momentum_v1&open_only=true&page=1&per_page=3");
  });
});

describe("PositionsTable closed positions", () => {
  it("test_positions_table_closed_position_is_marked_and_shows_no_negative_zero", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        new Response(
          JSON.stringify({
            items: [{ ...position(1), quantity: 0, market_value: 0, unrealized_pnl: -0.0001 }],
            total: 1,
            page: 1,
            per_page: 25,
          }),
          { status: 200 },
        ),
      ),
    );
    renderTable({ strategy: "momentum_v1" });
    const row = within((await screen.findAllByRole("row"))[1]!);
    expect(row.getByText("closed")).toBeInTheDocument();
    expect(row.queryByText("-0.00")).toBeNull();
    expect(row.getAllByText("0.00")).toHaveLength(2);
  });
});
