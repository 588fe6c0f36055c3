import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Risk } from "@/lib/api/hooks";
import { REARM_NEEDS_ADMIN } from "./rearm-control";
import { NO_POLICY, RiskView } from "./risk-view";

type Role = "viewer" | "trader" | "admin";

const TRIPS: Risk["breakers"]["trips"] = [
  { rule: "daily_loss", mode: "reduce_only", at: "2024-02-06T00:00:00Z", value: 0.03, limit: 0.02, equity: 97000 },
  { rule: "daily_loss_release", mode: "active", at: "2024-02-07T00:00:00Z", value: 0, limit: 0.02, equity: 97500 },
  { rule: "drawdown", mode: "flatten_and_halt", at: "2024-02-15T00:00:00Z", value: 0.1089, limit: 0.1, equity: 90000 },
];

/** GET /v1/risk after the drawdown breaker latched (the shape the API answers). */
function tripped(): Risk {
  return {
    policy: {
      version: 2,
      policy: {
        account: {
          max_risk_per_trade: 0.01,
          stop_distance: 0.05,
          max_capital_deployed: 0.8,
          max_positions: 10,
          daily_loss_limit: 0.02,
          max_drawdown: 0.1,
          calendar: "XNYS",
        },
        strategies: { momentum_v1: { budget: null, max_capital_deployed: 0.8, max_position_pct: null, max_positions: 10 } },
      },
      reason: "the default policy",
      source: "configs/risk/default.yaml",
      applied_by: "admin",
      applied_at: "2026-12-07T20:00:00Z",
    },
    limits: [
      { name: "account.max_capital_deployed", limit: 0.8, current: 0.2, unit: "share", breached: false },
      { name: "account.max_positions", limit: 10, current: 9, unit: "count", breached: false },
      { name: "account.daily_loss_limit", limit: 0.02, current: 0.013, unit: "share", breached: false },
      { name: "account.max_drawdown", limit: 0.1, current: 0.1089, unit: "share", breached: true },
      { name: "strategies.momentum_v1.max_positions", limit: 10, current: null, unit: "count", breached: false },
      { name: "strategies.momentum_v1.budget", limit: 50000, current: 18000, unit: "money", breached: false },
    ],
    breakers: {
      kill_switch: "flatten_and_halt",
      daily_loss: "armed",
      drawdown: "latched",
      session_loss: 0.013,
      drawdown_value: 0.1089,
      peak_equity: 101000,
      equity: 90000,
      last_point_at: "2024-02-15T00:00:00Z",
      trips: TRIPS,
    },
    exposure: {
      equity: 90000,
      gross_exposure: 18000,
      capital_deployed: 0.2,
      positions: 1,
      largest_symbol: "SP500",
      largest_share_of_gross: 1,
      largest_share_of_equity: 0.2,
    },
    strategies: {},
    history: [
      {
        at: "2026-12-07T20:01:03Z",
        mode_before: "active",
        mode: "flatten_and_halt",
        changed_by: null,
        reason: "risk policy v2: drawdown 10.89% (limit 10.00%)",
        via: "risk",
      },
      { at: "2026-12-07T20:01:02Z", mode_before: "reduce_only", mode: "active", changed_by: null, reason: "released", via: "risk" },
      { at: "2026-12-07T20:01:01Z", mode_before: "active", mode: "reduce_only", changed_by: null, reason: "daily loss", via: "risk" },
    ],
  };
}

/** A fake of this app's /api/v1 proxy: who is signed in, GET /v1/risk and POST /v1/risk/rearm. */
function fakeApi(role: Role, risk: Risk = tripped()) {
  const rearms: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const reply = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url === "/api/v1/auth/me") return reply({ id: 1, username: role, role, is_active: true });
      if (url === "/api/v1/risk") return reply(risk);
      if (url === "/api/v1/risk/rearm" && init?.method === "POST") {
        rearms.push(JSON.parse(String(init.body)));
        Object.assign(risk.breakers, { kill_switch: "active", drawdown: "armed", daily_loss: "armed", trips: [] });
        return reply(risk.breakers);
      }
      return reply({ error: { code: "not_found", message: url } }, 404);
    }),
  );
  return { rearms };
}

function renderView() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <RiskView />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("RiskView", () => {
  it("test_risk_view_latched_drawdown_shows_when_and_why_it_tripped", async () => {
    fakeApi("viewer");
    renderView();
    const drawdown = await screen.findByTestId("breaker-drawdown");
    expect(drawdown).toHaveAttribute("data-state", "latched");
    expect(within(drawdown).getByTestId("breaker-why")).toHaveTextContent(
      "Tripped on the equity point of 2024-02-15 00:00 UTC: drawdown 10.89% reached its 10.00% limit at equity 90,000.00; set flatten_and_halt.",
    );
    expect(screen.getByTestId("breaker-daily-loss")).toHaveAttribute("data-state", "armed");
    expect(within(screen.getByTestId("breakers")).getByText("kill switch: flatten_and_halt")).toBeInTheDocument();
    // every trip, newest first
    const trips = within(screen.getByRole("table", { name: "trips" })).getAllByRole("row").slice(1);
    expect(trips.map((r) => (r as HTMLTableRowElement).cells[1]?.textContent)).toEqual(["drawdown", "daily loss released (new session)", "daily loss"]);
  });

  it("test_risk_view_each_limit_is_a_gauge_against_its_value", async () => {
    fakeApi("viewer");
    renderView();
    const drawdown = await screen.findByRole("meter", { name: "Drawdown from the peak" });
    expect(drawdown).toHaveAttribute("aria-valuetext", "10.89% of a 10.00% limit");
    const gauges = screen.getAllByTestId("limit-gauge");
    const level = (name: string) => gauges.find((g) => g.dataset["limit"] === name)?.dataset["level"];
    expect(level("account.max_drawdown")).toBe("breached");
    expect(level("account.max_positions")).toBe("near"); // 9 of 10
    expect(level("account.max_capital_deployed")).toBe("ok");
    expect(level("strategies.momentum_v1.max_positions")).toBe("unmeasured");
    expect(screen.getByRole("meter", { name: "momentum_v1: positions held" })).toHaveAttribute("aria-valuetext", "not measured yet; limit 10");
    expect(screen.getByRole("meter", { name: "Positions held" })).toHaveAttribute("aria-valuetext", "9 of a 10 limit");
    expect(screen.getByRole("meter", { name: "momentum_v1: gross exposure against its budget" })).toHaveAttribute(
      "aria-valuetext",
      "18,000.00 of a 50,000.00 limit",
    );
  });

  it("test_risk_view_shows_the_policy_version_and_the_mode_history", async () => {
    fakeApi("viewer");
    renderView();
    expect(await screen.findByText("Policy in force: version 2")).toBeInTheDocument();
    expect(screen.getByTestId("policy")).toHaveTextContent("by admin from configs/risk/default.yaml: the default policy");
    const history = screen.getAllByTestId("mode-change");
    expect(history).toHaveLength(3);
    expect(history[0]).toHaveTextContent("active → to flatten_and_halt");
    expect(history[0]).toHaveTextContent("risk service");
  });

  it("test_risk_view_without_a_policy_says_so_instead_of_gauges", async () => {
    fakeApi("viewer", { ...tripped(), policy: null, limits: [] });
    renderView();
    expect(await screen.findByText(NO_POLICY)).toBeInTheDocument();
    expect(screen.queryAllByRole("meter")).toEqual([]);
  });

  it("test_risk_view_non_admin_is_told_rearm_needs_an_admin", async () => {
    fakeApi("trader");
    renderView();
    expect(await screen.findByTestId("rearm-denied")).toHaveTextContent(REARM_NEEDS_ADMIN);
    expect(screen.queryByRole("button", { name: "Re-arm breakers" })).toBeNull();
  });

  it("test_risk_view_admin_rearms_with_a_reason_after_a_review", async () => {
    const { rearms } = fakeApi("admin");
    const user = userEvent.setup();
    renderView();
    await user.click(await screen.findByRole("button", { name: "Re-arm breakers" }));
    const dialog = screen.getByRole("dialog", { name: "Re-arm the breakers" });
    const review = within(dialog).getByRole("button", { name: "Review re-arm" });
    expect(review).toBeDisabled();
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "  ");
    expect(review).toBeDisabled(); // blanks are not a reason
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "loss reviewed with the desk");
    await user.click(review);
    expect(rearms).toEqual([]); // nothing is sent before the confirmation
    expect(within(dialog).getByTestId("rearm-review")).toHaveTextContent("returns to active");
    await user.click(within(dialog).getByRole("button", { name: "Confirm: re-arm" }));
    expect(rearms).toEqual([{ reason: "loss reviewed with the desk" }]);
    await waitFor(() => expect(screen.getByTestId("breaker-drawdown")).toHaveAttribute("data-state", "armed"));
    expect(screen.getByText("No trip since the breakers were last armed.")).toBeInTheDocument();
  });
});
