// The Risk view with a tripped breaker: a policy applied through the API, losses planted
// in a paper session and evaluated by the risk service's own code (e2e/trip_breakers.py), then
// what the page shows of it, and an admin's re-arm with a reason and a confirmation.
import { expect, test } from "@playwright/test";
import { apiHeaders, screenshot, settled, signInAs, tripBreakers } from "./fixtures";
import { stackInfo } from "./stack-info";

/** The limits the planted losses are measured against (inside the seed's ranges). */
const POLICY = {
  account: { daily_loss_limit: 0.02, max_drawdown: 0.1, max_capital_deployed: 0.8, max_positions: 10, calendar: "XNYS" },
  strategies: { momentum_v1: { max_positions: 10 } },
};

test.describe("risk", () => {
  test.afterEach(async ({ request }) => {
    // a failed run must not leave the account halted for the tests after it
    const headers = await apiHeaders(request, "admin");
    const { api_url } = stackInfo();
    const risk = (await (await request.get(`${api_url}/v1/risk`, { headers })).json()) as { breakers: { kill_switch: string } };
    if (risk.breakers.kill_switch !== "active") {
      await request.post(`${api_url}/v1/risk/rearm`, { headers, data: { reason: "e2e cleanup" } });
    }
  });

  test("a latched drawdown shows when and why it tripped, and an admin re-arms it", async ({ page, request }) => {
    const { strategy_id, api_url } = stackInfo();
    const admin = await apiHeaders(request, "admin");
    const applied = await request.put(`${api_url}/v1/risk/policy`, { headers: admin, data: { policy: POLICY, reason: "e2e: daily loss 2 %, drawdown 10 %" } });
    expect(applied.status(), await applied.text()).toBe(200);
    const planted = tripBreakers(strategy_id);
    expect(planted.changes.map((c) => `${c.rule}:${c.mode}`)).toEqual([
      "daily_loss:reduce_only",
      "daily_loss_release:active",
      "drawdown:flatten_and_halt",
    ]);

    await signInAs(page, "admin");
    await page.goto("/risk");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Risk");
    const drawdown = page.getByTestId("breaker-drawdown");
    await expect(drawdown).toHaveAttribute("data-state", "latched");
    await expect(drawdown.getByTestId("breaker-why")).toContainText("drawdown 10.89% reached its 10.00% limit at equity 90,000.00");
    await expect(page.getByTestId("breaker-daily-loss")).toHaveAttribute("data-state", "armed");
    await expect(page.locator('[data-limit="account.max_drawdown"]')).toHaveAttribute("data-level", "breached");
    await expect(page.getByRole("meter", { name: "Drawdown from the peak" })).toHaveAttribute("aria-valuetext", "10.89% of a 10.00% limit");
    await expect(page.getByTestId("policy")).toContainText("by admin from api: e2e: daily loss 2 %, drawdown 10 %");
    const history = page.getByTestId("mode-change");
    await expect(history.first()).toContainText("flatten_and_halt");
    await expect(history.first()).toContainText("risk service");
    await expect(page.getByTestId("kill-switch")).toContainText("KILL SWITCH: FLATTEN AND HALT");
    await settled(page);
    await screenshot(page, "risk-tripped");

    await page.getByRole("button", { name: "Re-arm breakers" }).click();
    const dialog = page.getByRole("dialog", { name: "Re-arm the breakers" });
    await dialog.getByRole("textbox", { name: "Reason" }).fill("e2e: losses reviewed, trading may resume");
    await dialog.getByRole("button", { name: "Review re-arm" }).click();
    await expect(dialog.getByTestId("rearm-review")).toContainText("returns to active");
    await dialog.getByRole("button", { name: "Confirm: re-arm" }).click();
    await expect(dialog).toBeHidden();
    await expect(drawdown).toHaveAttribute("data-state", "armed");
    await expect(history.first()).toContainText("re-armed: e2e: losses reviewed");
    await expect(page.getByTestId("kill-switch")).toContainText("kill switch: active");
    await screenshot(page, "risk-rearmed");

    // each mode change the breakers made raised a critical alert
    const headers = await apiHeaders(request, "viewer");
    const alerts = (await (await request.get(`${api_url}/v1/alerts?severity=critical&per_page=100`, { headers })).json()) as {
      items: { source: string; message: string }[];
    };
    expect(alerts.items.filter((a) => a.source === "risk").map((a) => a.message).join("\n")).toContain("-> flatten_and_halt");
  });
});
