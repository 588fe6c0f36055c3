import { expect, test } from "@playwright/test";
import { apiIsUp, screenshot, setApi, signInAs } from "./fixtures";

test.describe("API outage", () => {
  test.afterEach(async () => {
    if (!(await apiIsUp())) await setApi("up"); // never leave the next test without an API
  });

  test("shows the error state while the API is down and recovers when it returns", async ({ page }) => {
    test.setTimeout(240_000);
    await signInAs(page, "admin");
    await page.goto("/");
    await expect(page.getByTestId("summary-stats")).toBeVisible();

    await setApi("down");
    await page.reload();
    const failure = page.getByRole("alert").filter({ hasText: "Could not load" }).first();
    await expect(failure).toBeVisible();
    await expect(failure).toContainText("did not answer"); // the proxy's 502 envelope, in its words
    await expect(failure.getByRole("button", { name: "Retry" })).toBeVisible();
    await expect(page.getByTestId("summary-stats")).toHaveCount(0);
    await screenshot(page, "outage");

    await setApi("up");
    // Retry every failed panel (the next poll would also do it, after SWR's backoff)
    await expect(async () => {
      for (const retry of await page.getByRole("button", { name: "Retry" }).all()) await retry.click();
      await expect(page.getByRole("alert").filter({ hasText: "Could not load" })).toHaveCount(0, { timeout: 3_000 });
    }).toPass({ timeout: 60_000 });
    await expect(page.getByTestId("summary-stats")).toBeVisible();
    await expect(page.getByRole("img", { name: "headline equity curves" }).locator("canvas").first()).toBeVisible();
    await screenshot(page, "outage-recovered");
  });
});
