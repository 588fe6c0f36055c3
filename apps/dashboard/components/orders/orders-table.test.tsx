import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EMPTY_ORDERS, OrdersTable } from "./orders-table";

const RUN = "80dba32c-c9d2-4ea1-a4b5-06795ef152d1";

function order(id: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    run_id: RUN,
    strategy_id: "momentum_v1",
    client_order_id: `momentum_v1-${id}`,
    symbol: "SP500",
    side: "buy",
    type: "market",
    time_in_force: "day",
    quantity: 10,
    limit_price: null,
    stop_price: null,
    status: "filled",
    submitted_at: "2018-03-01T21:00:00Z",
    closed_at: "2018-03-02T14:30:00Z",
    filled_quantity: 10,
    fill_price: 2700.5,
    reason: "fast SMA above slow",
    broker_order_id: `paper-${id}`,
    code: "",
    updated_at: "2018-03-02T14:30:00Z",
    ...extra,
  };
}

const REFUSED = order(2, {
  status: "rejected",
  code: "HALT_ENTRIES",
  reason: "the kill switch is halt_entries: only orders that reduce a position pass",
  filled_quantity: 0,
  fill_price: null,
  broker_order_id: null,
});

const DETAIL = {
  ...order(1),
  fills: [
    {
      id: 7,
      run_id: RUN,
      strategy_id: "momentum_v1",
      fill_id: "f-1",
      client_order_id: "momentum_v1-1",
      symbol: "SP500",
      side: "buy",
      quantity: 10,
      price: 2700.5,
      commission: 1.25,
      slippage: 0.4,
      ts: "2018-03-02T14:30:00Z",
    },
  ],
  events: [
    { status: "pending_submit", at: "2018-03-01T21:00:00Z", reason: "fast SMA above slow", code: "" },
    { status: "accepted", at: "2018-03-01T21:00:00Z", reason: "", code: "" },
    { status: "filled", at: "2018-03-02T14:30:00Z", reason: "", code: "" },
  ],
};

function fakeApi(items: unknown[]) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === "/api/v1/strategies") return reply([]);
      if (url.startsWith("/api/v1/runs?"))
        return reply({
          items: [{ id: RUN, strategy_id: "momentum_v1", status: "running", started_at: "2026-12-07T10:00:00Z", created_at: "2026-12-07T10:00:00Z" }],
          total: 1,
          page: 1,
          per_page: 50,
        });
      if (url === "/api/v1/orders/1") return reply(DETAIL);
      return reply({ items, total: items.length, page: 1, per_page: 25 });
    }),
  );
  return urls;
}

function renderTable() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <OrdersTable />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("OrdersTable", () => {
  it("test_orders_table_asks_for_the_paper_sessions_orders_and_says_when_there_are_none", async () => {
    const urls = fakeApi([]);
    renderTable();
    expect(await screen.findByText(EMPTY_ORDERS)).toBeInTheDocument();
    expect(urls).toContain("/api/v1/orders?run_type=paper&page=1&per_page=25");
  });

  it("test_orders_table_refused_order_shows_its_rule_code_and_reason", async () => {
    fakeApi([order(1), REFUSED]);
    renderTable();
    const table = await screen.findByRole("table", { name: "orders" });
    const refused = within(table).getAllByTestId("order-row")[1]!;
    expect(refused).toHaveAttribute("data-status", "rejected");
    expect(within(refused).getByText("HALT_ENTRIES")).toBeInTheDocument();
    expect(within(refused).getByText(/the kill switch is halt_entries/)).toBeInTheDocument();
    const filled = within(table).getAllByTestId("order-row")[0]!;
    expect(within(filled).getByText("2,700.50")).toBeInTheDocument();
  });

  it("test_orders_table_row_opens_to_its_fills_and_status_history", async () => {
    fakeApi([order(1)]);
    const user = userEvent.setup();
    renderTable();
    const toggle = await screen.findByRole("button", { name: "fills and history of order 1" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    const fills = await screen.findByRole("table", { name: "fills of order 1" });
    expect(within(fills).getByText("1.25")).toBeInTheDocument();
    const history = screen.getByRole("list", { name: "status history of order 1" });
    expect(within(history).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      expect.stringContaining("pending_submit"),
      expect.stringContaining("accepted"),
      expect.stringContaining("filled"),
    ]);
    expect(screen.getByText("paper-1")).toBeInTheDocument();
    await user.click(toggle);
    expect(screen.queryByRole("table", { name: "fills of order 1" })).toBeNull();
  });

  it("test_orders_table_choosing_a_session_and_a_status_filters_on_them", async () => {
    const urls = fakeApi([order(1)]);
    const user = userEvent.setup();
    renderTable();
    await screen.findByRole("table", { name: "orders" });
    const session = screen.getByRole("combobox", { name: "paper session" });
    await screen.findByRole("option", { name: /momentum_v1 · 80dba32c · .* · running/ });
    await user.selectOptions(session, RUN);
    await user.selectOptions(screen.getByRole("combobox", { name: "status" }), "rejected");
    await screen.findByRole("table", { name: "orders" });
    expect(urls).toContain(`/api/v1/orders?run_id=${RUN}&status=rejected&page=1&per_page=25`);
  });
});
