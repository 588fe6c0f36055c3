import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formField, parseGrid, parseSymbols } from "./form-model";
import { NewBacktestForm } from "./new-backtest-form";

const push = vi.fn();
vi.mock("next/navigation", () => ({
  useRouter: () => ({ push, replace: vi.fn() }),
  useSearchParams: () => new URLSearchParams(),
  usePathname: () => "/runs/new",
}));

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const STRATEGY = {
  id: "momentum_v1",
  class_path: "quant_strategy.builtin.momentum:SmaCrossover",
  description: "SMA crossover",
  status: "active",
  mode: "BACKTEST",
  universe: ["SP500"],
  timeframe: "1d",
  benchmark: "SP500",
  updated_at: "2024-01-01T00:00:00Z",
  is_benchmark: false,
  headline_run: null,
  config: {
    id: "momentum_v1",
    universe: ["SP500"],
    params: { fast: 20, slow: 50 },
    walk_forward: { in_sample_days: 1095, out_of_sample_days: 365, parameter_grid: { fast: [5, 10], slow: [50, 100] } },
  },
  params_schema: {
    type: "object",
    properties: {
      fast: { type: "integer", default: 20, minimum: 1, maximum: 1000, description: "fast SMA period (bars)" },
      slow: { type: "integer", default: 50, minimum: 2, maximum: 5000 },
    },
  },
};

const SYMBOLS = [
  { symbol: "SP500", timeframe: "1d", first_ts: "1999-01-04T00:00:00Z", last_ts: "2018-12-31T00:00:00Z", bar_count: 5031 },
  { symbol: "NASDAQ", timeframe: "1d", first_ts: "1999-01-04T00:00:00Z", last_ts: "2018-12-31T00:00:00Z", bar_count: 5031 },
  { symbol: "EURUSD", timeframe: "1h", first_ts: "2017-04-19T09:00:00Z", last_ts: "2018-02-07T15:00:00Z", bar_count: 5000 },
];

type Answer = () => Response;

function stubApi(onPost: Answer) {
  const posts: unknown[] = [];
  const fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://dashboard.test");
    if (init?.method === "POST" && url.pathname === "/api/v1/runs") {
      posts.push(JSON.parse(String(init.body)));
      return onPost();
    }
    if (url.pathname === "/api/v1/strategies") return json([STRATEGY]);
    if (url.pathname === "/api/v1/strategies/momentum_v1") return json(STRATEGY);
    if (url.pathname === "/api/v1/symbols") return json(SYMBOLS);
    if (url.pathname === "/api/v1/auth/me") return json({ id: 1, username: "trader", role: "trader" });
    return json({ error: { code: "not_found", message: url.pathname, field: null, request_id: "t" } }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { fetchMock, posts };
}

function renderForm() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <NewBacktestForm />
    </SWRConfig>,
  );
}

/** The form is ready once the strategy's params are there and the catalogue gave the dates. */
async function ready() {
  await screen.findByLabelText("fast");
  await waitFor(() => expect(screen.getByLabelText("Start")).toHaveValue("1999-01-04"));
}

beforeEach(() => push.mockReset());
afterEach(() => vi.unstubAllGlobals());

describe("NewBacktestForm", () => {
  it("test_new_backtest_form_prefills_from_the_strategy_and_the_catalogue", async () => {
    stubApi(() => json({ id: "x", status: "queued" }, 202));
    renderForm();
    await ready();
    expect(screen.getByLabelText("Strategy")).toHaveValue("momentum_v1");
    expect(screen.getByLabelText("Type")).toHaveValue("backtest");
    expect(screen.getByLabelText("Symbols")).toHaveValue("SP500");
    expect(screen.getByLabelText("End")).toHaveValue("2018-12-31");
    expect(screen.getByLabelText("fast")).toHaveValue(20);
    expect(screen.getByLabelText("slow")).toHaveValue(50);
  });

  it("test_new_backtest_form_422_naming_body_start_shows_beside_start", async () => {
    const { posts } = stubApi(() =>
      json(
        {
          error: {
            code: "validation_error",
            message: "start (2000-01-03) is refused for a reason only the API knows",
            field: "body.start",
            request_id: "r-1",
          },
        },
        422,
      ),
    );
    renderForm();
    await ready();
    const start = screen.getByLabelText("Start");
    await userEvent.clear(start);
    await userEvent.type(start, "2000-01-03");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    const message = await within(start.parentElement!).findByRole("alert");
    expect(message).toHaveTextContent("start (2000-01-03) is refused for a reason only the API knows");
    expect(posts).toHaveLength(1);
    expect(push).not.toHaveBeenCalled();
    // the message sits beside Start only
    expect(within(screen.getByLabelText("End").parentElement!).queryByRole("alert")).toBeNull();
  });

  it("test_new_backtest_form_202_navigates_to_the_new_run", async () => {
    const { posts } = stubApi(() => json({ id: "9d3f0c1e-0000-0000-0000-000000000001", status: "queued" }, 202));
    renderForm();
    await ready();
    const fast = screen.getByLabelText("fast");
    await userEvent.clear(fast);
    await userEvent.type(fast, "10");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    await waitFor(() => expect(push).toHaveBeenCalledWith("/runs/9d3f0c1e-0000-0000-0000-000000000001"));
    expect(posts[0]).toMatchObject({
      strategy_id: "momentum_v1",
      type: "backtest",
      universe: ["SP500"],
      start: "1999-01-04",
      end: "2018-12-31",
      params: { fast: 10 },
      backtest: { initial_capital: "100000", commission_per_trade: "1.00", slippage_bps: "10", fill_timing: "close", commission_rounding: "cent" },
    });
    expect(posts[0]).not.toHaveProperty("symbols");
    expect((posts[0] as { backtest: object }).backtest).not.toHaveProperty("capital");
  });

  it("test_new_backtest_form_commission_rounding_choice_is_sent", async () => {
    const { posts } = stubApi(() => json({ id: "9d3f0c1e-0000-0000-0000-000000000002", status: "queued" }, 202));
    renderForm();
    await ready();
    await userEvent.selectOptions(screen.getByLabelText("Commission rounding"), "none");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    await waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toMatchObject({ backtest: { commission_rounding: "none" } });
  });

  it("test_new_backtest_form_risk_policy_is_sent_and_its_422_shows_beside_it", async () => {
    const { posts } = stubApi(() =>
      json(
        {
          error: { code: "validation_error", message: "no risk policy 'tight': give 'in_force' or one of the policy files (default.yaml)", field: "body.backtest.risk_policy", request_id: "r" },
        },
        422,
      ),
    );
    renderForm();
    await ready();
    const policy = screen.getByLabelText(/Risk policy/);
    await userEvent.type(policy, "tight");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    const message = await within(policy.parentElement!).findByRole("alert");
    expect(message).toHaveTextContent("no risk policy 'tight'");
    expect(posts[0]).toMatchObject({ backtest: { risk_policy: "tight" } });
  });

  it("test_new_backtest_form_without_a_risk_policy_sends_null", async () => {
    const { posts } = stubApi(() => json({ id: "9d3f0c1e-0000-0000-0000-000000000003", status: "queued" }, 202));
    renderForm();
    await ready();
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    await waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toMatchObject({ backtest: { risk_policy: null } });
  });

  it("test_new_backtest_form_422_on_a_param_shows_beside_that_param", async () => {
    stubApi(() =>
      json({ error: { code: "validation_error", message: "Input should be greater than or equal to 1", field: "body.params.fast", request_id: "r" } }, 422),
    );
    renderForm();
    await ready();
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    const fast = screen.getByLabelText("fast");
    expect(await within(fast.parentElement!).findByRole("alert")).toHaveTextContent("greater than or equal to 1");
  });

  it("test_new_backtest_form_422_on_params_as_a_whole_shows_in_the_parameters_card", async () => {
    stubApi(() =>
      json({ error: { code: "validation_error", message: "fast (60) must be smaller than slow (50)", field: "body.params", request_id: "r" } }, 422),
    );
    renderForm();
    await ready();
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    const card = screen.getByRole("heading", { name: "Parameters" }).closest("section")!;
    expect(await within(card).findByRole("alert")).toHaveTextContent("fast (60) must be smaller than slow (50)");
  });

  it("test_new_backtest_form_refuses_symbols_outside_the_catalogue_without_posting", async () => {
    const { posts } = stubApi(() => json({ id: "x", status: "queued" }, 202));
    renderForm();
    await ready();
    const symbols = screen.getByLabelText("Symbols");
    await userEvent.clear(symbols);
    await userEvent.type(symbols, "SP500, ZZZZ");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    expect(await within(symbols.parentElement!).findByRole("alert")).toHaveTextContent("ZZZZ has no ingested bars");
    expect(posts).toHaveLength(0);
  });

  it("test_new_backtest_form_shows_the_range_the_chosen_symbols_have_beside_the_dates", async () => {
    stubApi(() => json({ id: "x", status: "queued" }, 202));
    renderForm();
    await ready();
    expect(screen.getByText("Data for SP500: 1999-01-04 → 2018-12-31")).toBeInTheDocument();
    // a start past the last bar or an end before the first one has no data
    expect(screen.getByLabelText("Start")).toHaveAttribute("max", "2018-12-31");
    expect(screen.getByLabelText("End")).toHaveAttribute("min", "1999-01-04");
  });

  it("test_new_backtest_form_refuses_dates_outside_the_data_without_posting", async () => {
    const { posts } = stubApi(() => json({ id: "x", status: "queued" }, 202));
    renderForm();
    await ready();
    const start = screen.getByLabelText("Start");
    await userEvent.clear(start);
    await userEvent.type(start, "2019-06-03");
    const end = screen.getByLabelText("End");
    await userEvent.clear(end);
    await userEvent.type(end, "2019-12-31");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    expect(await within(start.parentElement!).findByRole("alert")).toHaveTextContent(
      "no SP500 bars on or after 2019-06-03: SP500 has bars from 1999-01-04 to 2018-12-31",
    );
    expect(posts).toHaveLength(0);
  });

  it("test_new_backtest_form_429_shows_the_wait", async () => {
    stubApi(
      () =>
        new Response(
          JSON.stringify({ error: { code: "rate_limited", message: "too many runs: 10/minute", field: null, request_id: "r" } }),
          { status: 429, headers: { "content-type": "application/json", "retry-after": "42" } },
        ),
    );
    renderForm();
    await ready();
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    const alerts = await screen.findAllByRole("alert");
    expect(alerts.map((a) => a.textContent).join(" ")).toContain("retry in 42 s");
    expect(push).not.toHaveBeenCalled();
  });

  it("test_new_backtest_form_walk_forward_sends_the_grid_and_windows", async () => {
    const { posts } = stubApi(() => json({ id: "wf-1", status: "queued" }, 202));
    renderForm();
    await ready();
    await userEvent.selectOptions(screen.getByLabelText("Type"), "walk_forward");
    const grid = screen.getByLabelText("Parameter grid");
    expect(grid).toHaveValue("fast = 5, 10\nslow = 50, 100");
    await userEvent.clear(grid);
    await userEvent.type(grid, "fast = 5, 20{enter}slow = 100");
    await userEvent.click(screen.getByRole("button", { name: "Start backtest" }));
    await waitFor(() => expect(push).toHaveBeenCalledWith("/runs/wf-1"));
    expect(posts[0]).toMatchObject({
      type: "walk_forward",
      walk_forward: { parameter_grid: { fast: [5, 20], slow: [100] }, in_sample_days: 1095, out_of_sample_days: 365, window_type: "rolling" },
    });
  });
});

describe("form model", () => {
  it("test_form_field_maps_api_fields_to_form_fields", () => {
    expect(formField("body.start")).toBe("start");
    expect(formField("body.symbols.0")).toBe("symbols");
    expect(formField("body.universe.1")).toBe("symbols");
    expect(formField("body.universe")).toBe("symbols");
    expect(formField("body.backtest.initial_capital")).toBe("backtest.initial_capital");
    expect(formField("params.fast")).toBe("params.fast");
    expect(formField("body.backtest.capital")).toBe("backtest.capital");
    expect(formField("end")).toBe("end");
  });

  it("test_parse_grid_reads_lines_and_names_bad_ones", () => {
    expect(parseGrid("fast = 5, 10\n# note\nslow: [50, 100]", ["fast", "slow"]).grid).toEqual({ fast: [5, 10], slow: [50, 100] });
    expect(parseGrid("fast 5", ["fast"]).error).toMatch(/line 1/);
    expect(parseGrid("speed = 1", ["fast"]).error).toMatch(/speed is not a parameter/);
  });

  it("test_parse_symbols_checks_the_timeframe", () => {
    expect(parseSymbols("sp500 nasdaq", SYMBOLS, "1d")).toEqual({ symbols: ["SP500", "NASDAQ"] });
    expect(parseSymbols("EURUSD", SYMBOLS, "1d").error).toMatch(/only 1h bars/);
  });
});
