import { expect, test } from "@playwright/test";
import { screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

type PageCase = { name: string; path: () => string; h1: string | RegExp; check?: string };

const PAGES: PageCase[] = [
  { name: "overview", path: () => "/", h1: "Overview" },
  { name: "strategies", path: () => "/strategies", h1: "Strategies", check: "table" },
  { name: "strategy", path: () => `/strategies/${stackInfo().strategy_id}`, h1: "momentum_v1" },
  { name: "positions", path: () => "/positions", h1: "Positions" },
  { name: "orders", path: () => "/orders", h1: "Orders" },
  { name: "runs", path: () => "/runs", h1: "Runs", check: "table" },
  { name: "run", path: () => `/runs/${stackInfo().runs.backtest}`, h1: "momentum_v1 · backtest" },
  { name: "walk-forward-run", path: () => `/runs/${stackInfo().runs.walk_forward}`, h1: /^momentum_v1 · walk[-_ ]forward$/ },
  { name: "new-backtest-form", path: () => "/runs/new", h1: "New backtest" },
  { name: "risk", path: () => "/risk", h1: "Risk" },
  { name: "alerts", path: () => "/alerts", h1: "Alerts" },
  { name: "health", path: () => "/health", h1: "Health" },
  { name: "settings", path: () => "/settings", h1: "Settings" },
];

test.describe("every page", () => {
  test.beforeEach(async ({ page }) => {
    await signInAs(page, "admin");
  });

  for (const { name, path, h1, check } of PAGES) {
    test(`${name} renders its heading and the API's data without errors`, async ({ page }) => {
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(path());
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(h1);
      await expect(page.getByRole("heading", { level: 1 })).toHaveCount(1);
      await settled(page);
      if (check === "table") await expect(page.locator("table tbody tr").first()).toBeVisible();
      await screenshot(page, name);
      expect(errors).toEqual([]);
    });
  }

  test("the runs listing links to the seeded runs", async ({ page }) => {
    await page.goto("/runs");
    const { runs } = stackInfo();
    await expect(page.locator(`a[href="/runs/${runs.backtest}"]`).first()).toBeVisible();
    await expect(page.locator(`a[href="/runs/${runs.walk_forward}"]`).first()).toBeVisible();
  });
});
