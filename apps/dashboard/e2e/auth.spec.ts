import { expect, test } from "@playwright/test";
import { screenshot } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("sign-in", () => {
  test("signs in with the API's credentials and lands on the overview, which shows stored data", async ({ page }) => {
    const { username, password } = stackInfo().users.admin;
    await page.goto("/");
    await expect(page).toHaveURL(/\/signin/); // no session: the dashboard sends us to sign in
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await screenshot(page, "signin");

    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();

    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Overview");
    const stats = page.getByTestId("summary-stats");
    await expect(stats).toBeVisible();
    await expect(stats).toContainText("PnL (own money)");
    await expect(stats).toContainText("Sharpe");
    // the seeded runs have closed trades: the numbers are the API's, not placeholders
    await expect(stats.getByText("—")).toHaveCount(0);
    const chart = page.getByRole("img", { name: "headline equity curves" });
    await expect(chart.locator("canvas").first()).toBeVisible();
    await expect(page.getByTestId("current-user")).toContainText(username);
    await screenshot(page, "overview");
  });

  test("a wrong password shows the API's message and stays on sign-in", async ({ page, request }) => {
    const { api_url, users } = stackInfo();
    const direct = await request.post(`${api_url}/v1/auth/login`, {
      data: { username: users.admin.username, password: "not-the-password" },
    });
    expect(direct.status()).toBe(401);
    const message = ((await direct.json()) as { error: { message: string } }).error.message;

    await page.goto("/signin");
    await page.getByLabel("Username").fill(users.admin.username);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();

    // (Next's route announcer is an empty role=alert too: look for the message itself)
    await expect(page.getByRole("alert").filter({ hasText: message })).toHaveText(message);
    await expect(page).toHaveURL(/\/signin/);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).not.toContain("quant_refresh");
    await screenshot(page, "signin-wrong-password");
  });
});
