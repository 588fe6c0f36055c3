// The Alerts page over alerts raised in the stack's database (as the risk and monitoring services
// raise them): filtered by severity and acknowledgement, acknowledged by a trader, refused to a
// viewer; the acknowledgement is the API's (read back behind the page).
import { expect, test } from "@playwright/test";
import { apiHeaders, raiseAlerts, screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("alerts", () => {
  test("a trader filters to open critical alerts and acknowledges one", async ({ page, request }) => {
    const tag = Date.now().toString(36);
    const [critical] = raiseAlerts([
      { severity: "critical", source: "risk", message: `e2e ${tag}: daily loss breaker tripped`, strategy_id: stackInfo().strategy_id },
      { severity: "warning", source: "monitoring", message: `e2e ${tag}: market data is 12 minutes old` },
    ]);

    await signInAs(page, "trader");
    await page.goto("/alerts");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Alerts");
    await expect(page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Alerts" })).toHaveAttribute("aria-current", "page");
    await page.getByRole("combobox", { name: "severity" }).selectOption("critical");
    await page.getByRole("combobox", { name: "acknowledged" }).selectOption("open");
    const table = page.getByRole("table", { name: "alerts" });
    const row = table.locator(`[data-alert-id="${critical}"]`);
    await expect(row).toContainText(`e2e ${tag}: daily loss breaker tripped`);
    await expect(table).not.toContainText(`e2e ${tag}: market data`); // the warning is filtered out
    // the header counts the open ones by severity, each a link to its filter
    await expect(page.getByTestId("alert-count-critical")).toHaveAttribute("href", "/alerts?acknowledged=open&severity=critical");
    await settled(page);
    await screenshot(page, "alerts-filtered");

    await row.getByRole("button", { name: `Acknowledge alert ${critical}` }).click();
    // acknowledged rows leave the "open only" listing
    await expect(row).toHaveCount(0);
    await page.getByRole("combobox", { name: "acknowledged" }).selectOption("acknowledged");
    await expect(table.locator(`[data-alert-id="${critical}"]`)).toContainText("by you");
    await screenshot(page, "alerts-acknowledged");

    const headers = await apiHeaders(request, "viewer");
    const stored = await request.get(`${stackInfo().api_url}/v1/alerts?acknowledged=true&severity=critical&per_page=100`, { headers });
    const { items } = (await stored.json()) as { items: { id: number; acknowledged_at: string | null }[] };
    expect(items.find((a) => a.id === critical)?.acknowledged_at).toBeTruthy();
  });

  test("a viewer sees the alerts, no Acknowledge button, and why", async ({ page }) => {
    const [id] = raiseAlerts([{ severity: "info", source: "monitoring", message: `e2e ${Date.now().toString(36)}: daily summary sent` }]);
    await signInAs(page, "viewer");
    await page.goto("/alerts");
    await expect(page.getByTestId("acknowledge-denied")).toContainText("needs the trader or admin role");
    const row = page.locator(`[data-alert-id="${id}"]`);
    await expect(row).toContainText("open");
    await expect(page.getByRole("table", { name: "alerts" }).getByRole("button")).toHaveCount(0);
    await screenshot(page, "alerts-viewer");
  });

  test("a trader selects open alerts and acknowledges them at once", async ({ page }) => {
    const tag = Date.now().toString(36);
    const ids = raiseAlerts([
      { severity: "warning", source: "monitoring", message: `e2e ${tag}: stream lag 40 s` },
      { severity: "warning", source: "monitoring", message: `e2e ${tag}: 12 rejections in 60 s` },
    ]);
    await signInAs(page, "trader");
    // the header's count link opens the page filtered to open warnings
    await page.goto("/alerts?acknowledged=open&severity=warning");
    await expect(page.getByRole("combobox", { name: "severity" })).toHaveValue("warning");
    for (const id of ids) await expect(page.locator(`[data-alert-id="${id}"]`)).toBeVisible();
    for (const id of ids) await page.getByRole("checkbox", { name: `select alert ${id}` }).check();
    await page.getByRole("button", { name: "Acknowledge selected (2)" }).click();
    await expect(page.getByTestId("acknowledge-outcome")).toContainText("Acknowledged 2.");
    for (const id of ids) await expect(page.locator(`[data-alert-id="${id}"]`)).toHaveCount(0);
    await screenshot(page, "alerts-bulk-acknowledged");
  });
});
