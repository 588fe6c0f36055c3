// The health page's services: the stack's worker beats into PostgreSQL as it runs, and the page
// shows its heartbeat and metrics endpoint as GET /v1/health/services reports them.
import { expect, test } from "@playwright/test";
import { screenshot, settled, signInAs } from "./fixtures";

test("the health page shows each service's heartbeat", async ({ page }) => {
  await signInAs(page, "viewer");
  await page.goto("/health");
  const services = page.getByTestId("health-services");
  const worker = services.locator('[data-testid="service-row"][data-state="ok"]').first();
  await expect(worker).toBeVisible();
  await expect(worker).toContainText(/\d+ s ago/);
  await settled(page);
  await screenshot(page, "health-services");
});
