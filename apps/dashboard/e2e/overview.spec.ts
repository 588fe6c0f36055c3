import { expect, test, type Page } from "@playwright/test";
import { screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

/** Star or unstar a run through the dashboard's own proxy, as the run page's button does. */
async function setReference(page: Page, runId: string, starred: boolean): Promise<void> {
  const response = await page.request.patch(`/api/v1/runs/${runId}`, { data: { is_reference: starred } });
  expect(response.status(), await response.text()).toBe(200);
}

test.describe("overview headlines", () => {
  test.afterEach(async ({ page }) => {
    await setReference(page, stackInfo().runs.backtest, false); // leave the shared stack as found
  });

  test("shows each strategy's own headline run, says when it is only the latest, and follows a starred reference", async ({ page }) => {
    const { runs, strategy_id } = stackInfo();
    await signInAs(page, "trader");
    await page.goto("/");
    await settled(page);
    await expect(page.getByTestId("aggregate-note")).toContainText("Backtests are not added up");
    await expect(page.getByText("Total PnL")).toHaveCount(0);
    const row = page
      .getByRole("table", { name: "strategy headlines" })
      .getByRole("row")
      .filter({ has: page.getByText(strategy_id, { exact: true }) });
    // nothing starred: the run that finished last is shown, labelled as the fallback
    const latest = await page.request.get(`/api/v1/runs?strategy=${strategy_id}&status=completed&sort=finished_at&per_page=1`);
    const newest = ((await latest.json()) as { items: { id: string }[] }).items[0]!.id;
    await expect(row).toContainText("latest (no reference)");
    await expect(row.getByRole("link", { name: newest.slice(0, 8) })).toBeVisible();
    await expect(page.getByRole("img", { name: "headline equity curves" }).locator("canvas").first()).toBeVisible();

    // star the backtest on its page: it becomes the headline everywhere
    await page.goto(`/runs/${runs.backtest}`);
    await page.getByRole("button", { name: "☆ Star as reference" }).click();
    await expect(page.getByTestId("reference-mark")).toContainText(`${strategy_id}'s reference run`);
    await page.goto("/");
    await expect(row).toContainText("★ reference");
    await expect(row.getByRole("link", { name: runs.backtest.slice(0, 8) })).toBeVisible();
    await screenshot(page, "overview-reference");
    await page.goto(`/strategies/${strategy_id}`);
    await expect(page.getByTestId("headline-basis")).toHaveText("Reference run (starred ★)");
    await page.goto("/strategies");
    const listed = page.getByRole("table", { name: "strategies" }).getByRole("row");
    await expect(listed.filter({ has: page.getByRole("link", { name: strategy_id, exact: true }) })).toContainText("★ reference");
  });
});
