import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("telling runs apart", () => {
  test.afterEach(async ({ page }) => {
    // leave the shared stack's runs unlabelled
    const response = await page.request.patch(`/api/v1/runs/${stackInfo().runs.backtest}`, { data: { label: null } });
    expect(response.status()).toBe(200);
  });

  test("compares two ticked runs: curves from 1, and their setup, params and results side by side", async ({ page }) => {
    const { runs } = stackInfo();
    await signInAs(page, "trader");
    await page.goto("/runs");
    const table = page.getByRole("table", { name: "runs" });
    await table.getByLabel(`compare run ${runs.backtest.slice(0, 8)}`).check();
    await table.getByLabel(`compare run ${runs.walk_forward.slice(0, 8)}`).check();
    await page.getByRole("link", { name: "Compare 2 runs" }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/compare\\?ids=${runs.backtest},${runs.walk_forward}$`));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Compare runs");
    await settled(page);
    await expect(page.getByRole("img", { name: "compared equity curves" }).locator("canvas").first()).toBeVisible();
    const compared = page.getByRole("table", { name: "compared runs" });
    await expect(compared.getByRole("columnheader", { name: runs.backtest.slice(0, 8) })).toBeVisible();
    await expect(compared.getByRole("columnheader", { name: runs.walk_forward.slice(0, 8) })).toBeVisible();
    // the stack ran them over different dates: that row is marked as differing
    const asked = compared.getByRole("row").filter({ has: page.getByRole("rowheader", { name: /^Dates asked/ }) });
    await expect(asked).toHaveAttribute("data-differs", "true");
    await expect(asked).toContainText("2010-01-01");
    await expect(asked).toContainText("2012-01-01");
    await expect(compared.getByRole("rowheader", { name: /^Sharpe/ })).toBeVisible();
    await screenshot(page, "compare-runs");
  });

  test("labels a run on its page, finds it by its label, and exports its full series as CSV", async ({ page }) => {
    const { runs, strategy_id } = stackInfo();
    await signInAs(page, "trader");
    await page.goto(`/runs/${runs.backtest}`);
    await page.getByRole("button", { name: "add a label" }).click();
    await page.getByLabel("run label").fill("e2e baseline");
    await page.getByRole("button", { name: "Save label" }).click();
    await expect(page.getByTestId("run-label")).toHaveText("“e2e baseline”");

    const trades = page.waitForEvent("download");
    await page.getByRole("link", { name: "Trades CSV" }).click();
    const tradesFile = await trades;
    expect(tradesFile.suggestedFilename()).toBe(`${strategy_id}_${runs.backtest.slice(0, 8)}_trades.csv`);
    const tradeLines = readFileSync(await tradesFile.path(), "utf8").trim().split("\n");
    expect(tradeLines[0]).toBe("trade_id,symbol,direction,quantity,entry_time,entry_price,exit_time,exit_price,gross_pnl,commission,pnl,bars_held,mfe,mae,given_back,regime");
    expect(tradeLines.length).toBeGreaterThan(1);

    const equity = page.waitForEvent("download");
    await page.getByRole("link", { name: "Equity CSV" }).click();
    const equityFile = await equity;
    expect(equityFile.suggestedFilename()).toBe(`${strategy_id}_${runs.backtest.slice(0, 8)}_equity.csv`);
    // 2010-2018 of daily bars: every stored point, more than the 1,000 the charts are drawn with
    const equityLines = readFileSync(await equityFile.path(), "utf8").trim().split("\n");
    expect(equityLines.length - 1).toBeGreaterThan(2_000);

    await page.goto("/runs");
    await page.getByLabel("Label contains").fill("E2E BASE");
    await page.getByLabel("Label contains").press("Enter");
    await expect(page).toHaveURL(/label=E2E\+BASE/);
    const rows = page.getByRole("table", { name: "runs" }).locator("tbody tr");
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText("e2e baseline");
  });
});
