import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NO_METRICS, runRow as run } from "@/lib/test/fixtures";
import { RunsList } from "./runs-list";

const replace = vi.fn();
let search = new URLSearchParams();
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace, push: vi.fn() }),
  usePathname: () => "/runs",
  useSearchParams: () => search,
}));

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const PAGE_1: ReturnType<typeof run>[] = [
  run("aaaaaaaa-0000-0000-0000-000000000001", "completed", {
    key_metrics: { ...NO_METRICS, total_return: 0.1234, annual_return: 0.05, sharpe: 1.5, max_drawdown_pct: 0.08, win_rate: 0.5, num_trades: 12 },
  }),
  run("bbbbbbbb-0000-0000-0000-000000000002", "running", { type: "walk_forward" }),
  run("cccccccc-0000-0000-0000-000000000003", "failed"),
  run("eeeeeeee-0000-0000-0000-000000000005", "completed", {
    type: "walk_forward",
    key_metrics: { ...NO_METRICS, total_return: -0.0315, max_drawdown_pct: 0.2, num_trades: 0 },
  }),
];

function stubApi() {
  const fetchMock = vi.fn(async (input: string) => {
    const url = new URL(input, "http://dashboard.test");
    if (url.pathname === "/api/v1/strategies") return json([]);
    if (url.pathname === "/api/v1/runs") {
      const page = Number(url.searchParams.get("page") ?? "1");
      const items = page === 1 ? PAGE_1 : [run("dddddddd-0000-0000-0000-000000000004", "cancelled")];
      return json({ items, total: 23, page, per_page: 20 });
    }
    return json({ error: { code: "not_found", message: `no ${url.pathname}`, field: null, request_id: "t" } }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

function renderList() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <RunsList />
    </SWRConfig>,
  );
}

const runsCalls = (fetchMock: ReturnType<typeof stubApi>) =>
  fetchMock.mock.calls.map((c) => String(c[0])).filter((u) => u.startsWith("/api/v1/runs?"));

/** Reads of one run (`/api/v1/runs/{id}` and below): the table must not make any. */
const perRunCalls = (fetchMock: ReturnType<typeof stubApi>) =>
  fetchMock.mock.calls.map((c) => String(c[0])).filter((u) => u.startsWith("/api/v1/runs/"));

const ORIGINAL_PAGE_1 = [...PAGE_1];

beforeEach(() => {
  search = new URLSearchParams();
  replace.mockReset();
  PAGE_1.splice(0, PAGE_1.length, ...ORIGINAL_PAGE_1);
});
afterEach(() => vi.unstubAllGlobals());

describe("RunsList", () => {
  it("test_runs_table_lists_each_run_with_a_link_status_badge_and_metrics", async () => {
    stubApi();
    renderList();
    const table = await screen.findByRole("table", { name: "runs" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(4);
    expect(within(rows[0]!).getByRole("link", { name: "aaaaaaaa" })).toHaveAttribute(
      "href",
      "/runs/aaaaaaaa-0000-0000-0000-000000000001",
    );
    expect(within(rows[0]!).getByText("completed")).toHaveClass("bg-emerald-100");
    expect(within(rows[1]!).getByText("running")).toHaveClass("bg-sky-100");
    expect(within(rows[1]!).getByText("walk-forward")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("42%")).toBeInTheDocument();
    expect(within(rows[0]!).queryByText("100%")).toBeNull(); // progress only while it works
    expect(within(rows[2]!).getByText("failed")).toHaveClass("bg-red-100");
  });

  it("test_runs_table_shows_each_rows_key_metrics_from_the_listing_without_reading_any_run", async () => {
    const fetchMock = stubApi();
    renderList();
    const table = await screen.findByRole("table", { name: "runs" });
    const [done, running, failed, walkForward] = within(table).getAllByRole("row").slice(1);
    const figures = (row: HTMLElement) =>
      within(row)
        .getAllByRole("cell")
        .slice(-4)
        .map((cell) => cell.textContent);
    // return, Sharpe, max drawdown, trades: signed percentages with 2 decimals
    expect(figures(done!)).toEqual(["+12.34%", "1.50", "-8.00%", "12"]);
    expect(within(done!).getByText("+12.34%")).toHaveClass("text-emerald-700");
    expect(figures(walkForward!)).toEqual(["-3.15%", "—", "-20.00%", "0"]);
    expect(within(walkForward!).getByText("-3.15%")).toHaveClass("text-red-700");
    // nothing yet (running) or never (failed): a dash for every figure
    expect(figures(running!)).toEqual(["—", "—", "—", "—"]);
    expect(figures(failed!)).toEqual(["—", "—", "—", "—"]);
    // let any per-row request that would have started go out before counting
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runsCalls(fetchMock)).toHaveLength(1);
    expect(perRunCalls(fetchMock)).toEqual([]);
  });

  it("test_runs_pager_next_requests_page_2_and_keeps_it_in_the_url", async () => {
    const fetchMock = stubApi();
    renderList();
    await screen.findByRole("table", { name: "runs" });
    expect(runsCalls(fetchMock)[0]).toContain("page=1");
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(runsCalls(fetchMock).some((u) => /[?&]page=2(&|$)/.test(u))).toBe(true));
    expect(await within(screen.getByRole("table", { name: "runs" })).findByText("cancelled")).toBeInTheDocument();
    expect(replace).toHaveBeenCalledWith("/runs?page=2", { scroll: false });
  });

  it("test_runs_filters_from_the_url_are_sent_to_the_api", async () => {
    search = new URLSearchParams("status=failed&type=walk_forward&page=3");
    const fetchMock = stubApi();
    renderList();
    await screen.findByRole("table", { name: "runs" });
    const first = new URL(runsCalls(fetchMock)[0]!, "http://dashboard.test");
    expect(first.searchParams.get("status")).toBe("failed");
    expect(first.searchParams.get("type")).toBe("walk_forward");
    expect(first.searchParams.get("page")).toBe("3");
  });

  it("test_runs_table_shows_each_runs_params_overrides_dates_data_label_and_star", async () => {
    stubApi();
    PAGE_1[0] = run("aaaaaaaa-0000-0000-0000-000000000001", "completed", {
      label: "fast 10 after fees",
      is_reference: true,
      params: { fast: 10, slow: 50 },
      params_overrides: { fast: 10 },
      capital: 250000,
    });
    renderList();
    const table = await screen.findByRole("table", { name: "runs" });
    const [starred, walkForward] = within(table).getAllByRole("row").slice(1);
    expect(within(starred!).getByLabelText("reference run")).toHaveTextContent("★");
    expect(within(starred!).getByText("fast 10 after fees")).toBeInTheDocument();
    expect(within(starred!).getByText("fast=10*")).toHaveClass("font-semibold");
    expect(within(starred!).getByText("slow=50")).not.toHaveClass("font-semibold");
    expect(within(starred!).getByText("2010-01-04 → 2018-12-31")).toHaveAttribute("title", "dates the run's results cover");
    expect(within(starred!).getByText("SP500 · samples · 250,000")).toBeInTheDocument();
    // not run yet: the dates asked for, and no data source yet
    expect(within(walkForward!).getByText("2010-01-01 → 2018-12-31")).toHaveAttribute("title", "dates asked for (not run yet)");
    expect(within(walkForward!).getByText("SP500 · not read yet · 100,000")).toBeInTheDocument();
  });

  it("test_runs_sort_by_a_metric_header_asks_the_server_and_a_second_click_reverses", async () => {
    const fetchMock = stubApi();
    renderList();
    const table = await screen.findByRole("table", { name: "runs" });
    await userEvent.click(within(table).getByRole("button", { name: "Sharpe" }));
    await waitFor(() => expect(runsCalls(fetchMock).some((u) => u.includes("sort=sharpe") && u.includes("order=desc"))).toBe(true));
    expect(replace).toHaveBeenLastCalledWith("/runs?sort=sharpe&order=desc", { scroll: false });
    // the table is drawn again from the new answer
    const sorted = await screen.findByRole("table", { name: "runs" });
    expect(within(sorted).getByRole("columnheader", { name: /Sharpe/ })).toHaveAttribute("aria-sort", "descending");
    await userEvent.click(within(sorted).getByRole("button", { name: /Sharpe/ }));
    expect(replace).toHaveBeenLastCalledWith("/runs?sort=sharpe&order=asc", { scroll: false });
    // a drawdown's best is its smallest: it starts low to high
    await userEvent.click(within(await screen.findByRole("table", { name: "runs" })).getByRole("button", { name: "Max DD" }));
    expect(replace).toHaveBeenLastCalledWith("/runs?sort=max_drawdown_pct&order=asc", { scroll: false });
    await waitFor(() => expect(runsCalls(fetchMock).some((u) => u.includes("sort=max_drawdown_pct") && u.includes("order=asc"))).toBe(true));
  });

  it("test_runs_label_text_and_reference_filters_are_sent_to_the_api", async () => {
    const fetchMock = stubApi();
    renderList();
    await screen.findByRole("table", { name: "runs" });
    await userEvent.type(screen.getByLabelText("Label contains"), "fees{Enter}");
    await waitFor(() => expect(runsCalls(fetchMock).some((u) => new URL(u, "http://d.test").searchParams.get("label") === "fees")).toBe(true));
    await userEvent.click(screen.getByLabelText("Reference only ★"));
    await waitFor(() =>
      expect(runsCalls(fetchMock).some((u) => new URL(u, "http://d.test").searchParams.get("is_reference") === "true")).toBe(true),
    );
    expect(replace).toHaveBeenLastCalledWith("/runs?label=fees&starred=1", { scroll: false });
  });

  it("test_runs_compare_needs_two_to_five_ticked_runs_and_links_to_the_compare_page", async () => {
    stubApi();
    renderList();
    const table = await screen.findByRole("table", { name: "runs" });
    const bar = screen.getByRole("group", { name: "compare runs" });
    expect(within(bar).queryByRole("link")).toBeNull();
    expect(bar).toHaveTextContent("Tick 2 to 5 runs to compare them");
    await userEvent.click(within(table).getByLabelText("compare run aaaaaaaa"));
    await userEvent.click(within(table).getByLabelText("compare run eeeeeeee"));
    const link = within(bar).getByRole("link", { name: "Compare 2 runs" });
    expect(link).toHaveAttribute(
      "href",
      "/runs/compare?ids=aaaaaaaa-0000-0000-0000-000000000001,eeeeeeee-0000-0000-0000-000000000005",
    );
    for (const id of ["bbbbbbbb", "cccccccc"]) await userEvent.click(within(table).getByLabelText(`compare run ${id}`));
    expect(within(bar).getByRole("link", { name: "Compare 4 runs" })).toBeInTheDocument();
    await userEvent.click(within(bar).getByRole("button", { name: "untick all" }));
    expect(within(bar).queryByRole("link")).toBeNull();
  });

  it("test_runs_empty_listing_says_start_a_backtest", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: string) =>
        input.startsWith("/api/v1/strategies") ? json([]) : json({ items: [], total: 0, page: 1, per_page: 20 }),
      ),
    );
    renderList();
    expect(await screen.findByText("No runs yet - start a backtest")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Start a backtest" })).toHaveAttribute("href", "/runs/new");
  });
});
