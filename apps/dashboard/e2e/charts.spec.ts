// The first hour of a new user (issue 10): a backtest started from the form shows its equity,
// drawdown and monthly returns within 2 s of completing, ten times in a row; a chart read that
// fails shows an error and comes back on its own; the price chart carries the strategy's
// indicators and the walk-forward its parameter heatmap.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

const RUNS_IN_A_ROW = 10;
const BUDGET_MS = 2_000;

async function setField(field: Locator, value: string): Promise<void> {
  const tag = await field.evaluate((element) => element.tagName.toLowerCase());
  if (tag === "select") {
    const multiple = await field.evaluate((element) => (element as HTMLSelectElement).multiple);
    await field.selectOption(multiple ? value.split(",") : value);
  } else {
    await field.fill(value);
  }
}

/** Resolves when the run page shows equity, drawdown and monthly returns, all drawn; checked
 * every 50 ms in the page, so the moment it resolves is the moment they appeared. */
async function chartsShown(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const drawn = (label: string) => document.querySelector(`[role="img"][aria-label="${label}"] canvas`) !== null;
      const months = Array.from(document.querySelectorAll('[data-testid="monthly-returns"] td[data-cell]'));
      return drawn("equity curve") && drawn("drawdown") && months.some((cell) => cell.textContent?.includes("%"));
    },
    undefined,
    { polling: 50, timeout },
  );
}

/** When the API first answers the run as completed (and its finished_at), asked every 50 ms. */
async function watchCompletion(api: string, token: string, runId: string): Promise<{ at: number; finishedAt: number }> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const at = Date.now(); // the commit came after the previous answer and before this one's read
    const response = await fetch(`${api}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } });
    const run = (await response.json()) as { status: string; finished_at: string | null; error: string | null };
    if (run.status === "completed") return { at, finishedAt: Date.parse(run.finished_at!) };
    if (run.status === "failed" || run.status === "cancelled") throw new Error(`run ${runId} ${run.status}: ${run.error}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`run ${runId} did not complete in 120 s`);
}

test.describe("charts after a run completes", () => {
  test(`a backtest from the form shows equity, drawdown and monthly returns within 2 s of completion, ${RUNS_IN_A_ROW} times in a row`, async ({
    page,
  }) => {
    test.setTimeout(600_000);
    await signInAs(page, "trader");
    const { api_url: api, users } = stackInfo();
    const login = await fetch(`${api}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(users.viewer),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= RUNS_IN_A_ROW; attempt += 1) {
      await page.goto("/runs/new");
      await setField(page.getByLabel("Strategy", { exact: true }), "momentum_v1");
      await setField(page.getByLabel("Symbols", { exact: true }), "SP500");
      // short runs (a year or two of daily bars), different each time: each is a new curve
      await setField(page.getByLabel("Start", { exact: true }), `${2005 + attempt}-01-03`);
      await setField(page.getByLabel("End", { exact: true }), `${2006 + attempt}-12-31`);
      await page.getByRole("button", { name: "Start backtest" }).click();
      await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
      const runId = page.url().split("/").pop()!;

      // completion: the first moment the API answers "completed" (asked every 50 ms, beside the
      // page, straight from the API), so the figure is what a user waits once the run is done
      const completedAt = watchCompletion(api, token, runId);
      await chartsShown(page);
      const shownAt = Date.now();
      const { at, finishedAt } = await completedAt;
      const delay = shownAt - at;
      delays.push(delay);
      console.log(
        `run ${attempt}/${RUNS_IN_A_ROW} ${runId}: charts shown ${delay} ms after the API first said completed ` +
          `(${shownAt - finishedAt} ms after finished_at)`,
      );
      expect(delay, `run ${attempt}: charts ${delay} ms after completion`).toBeLessThanOrEqual(BUDGET_MS);
    }
    console.log(`completion -> charts, ${delays.length} runs: max ${Math.max(...delays)} ms, all ${delays.join(", ")} ms`);
    await screenshot(page, "run-charts-after-completion");
  });

  test("a chart read that fails shows an error with Retry, then comes back on its own", async ({ page }) => {
    const { runs } = stackInfo();
    await signInAs(page, "viewer");
    let failures = 0;
    await page.route("**/api/v1/runs/*/analytics*", async (route) => {
      if (failures < 2) {
        failures += 1;
        await route.fulfill({
          status: 503,
          contentType: "application/json",
          headers: { "retry-after": "5" },
          body: JSON.stringify({
            error: { code: "unavailable", message: "the database took too long and the query was cancelled", field: null, request_id: "e2e" },
          }),
        });
        return;
      }
      await route.continue();
    });
    await page.goto(`/runs/${runs.backtest}`);
    const failed = page.getByTestId("chart-error");
    await expect(failed).toContainText("Could not load the run's statistics");
    await expect(failed.getByRole("button", { name: "Retry" })).toBeVisible();
    await screenshot(page, "run-chart-read-failed");
    await chartsShown(page); // after 1 s and 2 s of waiting, the third read goes through
    await expect(failed).toHaveCount(0);
    expect(failures).toBe(2);
  });

  test("the seeded backtest's trades carry their excursions: the MAE scatter, the MFE / MAE column and the regime table", async ({ page }) => {
    const { runs } = stackInfo();
    await signInAs(page, "viewer");
    await page.goto(`/runs/${runs.backtest}`);
    const scatter = page.getByRole("img", { name: "trade MAE against return" });
    await expect(scatter.locator(".recharts-symbols").first()).toBeVisible();
    const trades = page.getByRole("table", { name: "trades", exact: true });
    await expect(trades.getByRole("columnheader", { name: "MFE / MAE" })).toBeVisible();
    await expect(trades.locator("tbody tr").first()).toContainText(/-?\d+\.\d% \/ -?\d+\.\d%/);
    const regimes = page.getByRole("table", { name: "trades by regime" });
    await expect(regimes.locator("tbody tr").first()).toContainText(/bull|bear|sideways|high volatility|unknown/);
    await scatter.scrollIntoViewIfNeeded();
    await screenshot(page, "run-trade-excursions");
  });

  test("the seeded backtest's price chart carries momentum_v1's SMAs and the walk-forward its heatmap", async ({ page }) => {
    const { runs } = stackInfo();
    await signInAs(page, "viewer");
    await page.goto(`/runs/${runs.backtest}`);
    const prices = page.getByRole("img", { name: "price with trades" });
    await expect(prices.locator("canvas").first()).toBeVisible();
    const legend = page.locator("section").filter({ has: prices }).getByRole("list", { name: "legend" });
    await expect(legend).toContainText("SMA 20");
    await expect(legend).toContainText("SMA 50");
    await expect(page.getByRole("img", { name: "equity curve" })).toBeVisible();
    await expect(page.getByRole("list", { name: "legend" }).filter({ hasText: "Buy & hold SP500" })).toBeVisible();
    await screenshot(page, "run-backtest-charts");

    await page.goto(`/runs/${runs.walk_forward}`);
    const heatmap = page.getByRole("table", { name: "parameter heatmap" });
    await expect(heatmap).toBeVisible();
    await expect(heatmap.locator("tbody tr")).toHaveCount(2); // fast 10, 20
    await expect(heatmap.locator("thead th")).toHaveCount(3); // the corner, slow 50, 100
    await expect(heatmap.locator("td[data-chosen]").first()).toBeVisible();
    await screenshot(page, "run-walk-forward-heatmap");
  });
});
