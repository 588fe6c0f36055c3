import { expect, test, type Locator } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";

/** Fill a form control whatever it is: a select (choose the option) or a text/date input. */
async function setField(field: Locator, value: string): Promise<void> {
  const tag = await field.evaluate((element) => element.tagName.toLowerCase());
  if (tag === "select") {
    const multiple = await field.evaluate((element) => (element as HTMLSelectElement).multiple);
    await field.selectOption(multiple ? value.split(",") : value);
  } else {
    await field.fill(value);
  }
}

test.describe("new backtest", () => {
  test("starts a backtest from the form, watches its progress reach 100% and shows its equity curve", async ({ page }) => {
    test.setTimeout(180_000);
    await signInAs(page, "trader");
    await page.goto("/runs/new");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("New backtest");

    const strategy = page.getByLabel("Strategy", { exact: true });
    await expect(strategy.locator("option[value=\"momentum_v1\"]")).toHaveCount(1); // from the API's catalogue
    await setField(strategy, "momentum_v1");
    await setField(page.getByLabel("Symbols", { exact: true }), "SP500");
    await setField(page.getByLabel("Start", { exact: true }), "2014-01-02");
    await setField(page.getByLabel("End", { exact: true }), "2018-12-31");
    await screenshot(page, "new-backtest");
    await page.getByRole("button", { name: "Start backtest" }).click();

    await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("momentum_v1 · backtest");
    const progress = page.getByRole("progressbar");
    await expect(progress).toBeVisible();
    await expect(progress).toHaveAttribute("aria-valuenow", "100", { timeout: 120_000 });
    const equity = page.getByRole("img", { name: "equity curve" });
    await expect(equity.locator("canvas").first()).toBeVisible();
    await expect(page.getByRole("img", { name: "drawdown" }).locator("canvas").first()).toBeVisible();
    await screenshot(page, "run-new-backtest");
  });

  test("a start after the end is refused with the API's message on the form", async ({ page }) => {
    await signInAs(page, "trader");
    await page.goto("/runs/new");
    await setField(page.getByLabel("Strategy", { exact: true }), "momentum_v1");
    await setField(page.getByLabel("Start", { exact: true }), "2018-12-31");
    await setField(page.getByLabel("End", { exact: true }), "2014-01-02");
    await page.getByRole("button", { name: "Start backtest" }).click();
    await expect(page.getByRole("alert").filter({ hasText: /\S/ }).first()).toBeVisible();
    await expect(page).toHaveURL(/\/runs\/new/);
  });
});
