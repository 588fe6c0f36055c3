import { expect, test } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";

// The stack's API and worker run in the checkout with no QUANT_STRATEGIES_PATH: breakout_v1 comes
// from strategies/breakout_v1.yaml and its class from strategies/breakout.py (README example).
test.describe("own strategies", () => {
  test("a strategy from the strategies folder is offered by the form and its backtest completes", async ({ page }) => {
    test.setTimeout(180_000);
    await signInAs(page, "trader");
    await page.goto("/runs/new");
    const strategy = page.getByLabel("Strategy", { exact: true });
    await expect(strategy.locator('option[value="breakout_v1"]')).toHaveCount(1);
    await strategy.selectOption("breakout_v1");
    await expect(page.getByLabel("window", { exact: true })).toHaveValue("20"); // its params schema
    await page.getByLabel("Start", { exact: true }).fill("2014-01-02");
    await page.getByLabel("End", { exact: true }).fill("2018-12-31");
    await page.getByRole("button", { name: "Start backtest" }).click();

    await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("breakout_v1 · backtest");
    await expect(page.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100", { timeout: 120_000 });
    await expect(page.getByRole("img", { name: "equity curve" }).locator("canvas").first()).toBeVisible();
    await screenshot(page, "run-own-strategy");
  });

  test("a start after the data is refused beside Start with the range that exists, before any request", async ({ page }) => {
    await signInAs(page, "trader");
    await page.goto("/runs/new");
    await page.getByLabel("Strategy", { exact: true }).selectOption("momentum_v1");
    await page.getByLabel("Symbols", { exact: true }).fill("SP500");
    await expect(page.getByText("Data for SP500: 1999-01-04 → 2018-12-31")).toBeVisible();
    let posted = false;
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/api/v1/runs")) posted = true;
    });
    await page.getByLabel("Start", { exact: true }).fill("2019-06-03");
    await page.getByLabel("End", { exact: true }).fill("2019-12-31");
    await page.getByRole("button", { name: "Start backtest" }).click();
    await expect(page.getByText("no SP500 bars on or after 2019-06-03: SP500 has bars from 1999-01-04 to 2018-12-31")).toBeVisible();
    await screenshot(page, "new-backtest-dates-refused");
    expect(posted).toBe(false);
    await expect(page).toHaveURL(/\/runs\/new/);
  });
});
