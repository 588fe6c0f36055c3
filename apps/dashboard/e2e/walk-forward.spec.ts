import { expect, test } from "@playwright/test";
import { screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("walk-forward run", () => {
  test("opens the seeded walk-forward run and sees its windows table", async ({ page }) => {
    const { runs, strategy_id } = stackInfo();
    await signInAs(page, "viewer");
    await page.goto(`/runs/${runs.walk_forward}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(new RegExp(`^${strategy_id} · walk[-_ ]forward$`));
    await expect(page.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");

    const heading = page.getByRole("heading", { name: "Walk-forward windows" });
    await expect(heading).toBeVisible();
    // the table that belongs to the section: the nearest ancestor holding both
    const section = page.locator("section, [role=region], div").filter({ has: heading }).filter({ has: page.locator("table") }).last();
    const table = section.locator("table").first();
    await expect(table).toBeVisible();
    // the stack ran 2 windows: a header row plus one row per window
    await expect(table.locator("tbody tr")).toHaveCount(2);
    await settled(page);
    await screenshot(page, "run-walk-forward");
  });
});
