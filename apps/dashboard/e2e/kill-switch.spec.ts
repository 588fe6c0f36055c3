import { expect, test } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("kill switch", () => {
  test.afterEach(async ({ request }) => {
    // a failed run of the admin test must not leave the switch set for the tests after it
    const { api_url, users } = stackInfo();
    const login = await request.post(`${api_url}/v1/auth/login`, { data: users.admin });
    const { access_token } = (await login.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}` };
    const state = (await (await request.get(`${api_url}/v1/controls/kill-switch`, { headers })).json()) as { mode: string };
    if (state.mode !== "active") {
      await request.put(`${api_url}/v1/controls/kill-switch`, { headers, data: { mode: "active", reason: "e2e cleanup" } });
    }
  });

  test("an admin chooses a mode with a reason, confirms it, and sets it back to active", async ({ page }) => {
    await signInAs(page, "admin");
    await page.goto("/");
    const control = page.getByTestId("kill-switch");
    await expect(control).toContainText("kill switch: active");

    await control.getByRole("button", { name: "Kill switch" }).click();
    const dialog = page.getByRole("dialog", { name: "Kill-switch mode" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId("kill-switch-truth")).toContainText("Every paper session reads it before each bar");
    await expect(dialog.getByRole("radio", { name: /^active/ })).toBeDisabled();
    await expect(dialog.getByRole("button", { name: "Review change" })).toBeDisabled();
    await dialog.getByRole("radio", { name: /reduce_only/ }).check();
    await dialog.getByRole("textbox", { name: "Reason" }).fill("e2e drill: daily loss near the limit");
    await screenshot(page, "kill-switch-dialog");
    await dialog.getByRole("button", { name: "Review change" }).click();
    await expect(dialog.getByTestId("kill-switch-review")).toContainText("Only orders that reduce a position pass");
    await dialog.getByRole("button", { name: "Confirm: set reduce_only" }).click();
    await expect(dialog).toBeHidden();
    await expect(control).toContainText("KILL SWITCH: REDUCE ONLY");
    await expect(control.getByTestId("kill-switch-scope")).toContainText("paper sessions obey it from their next order");
    await screenshot(page, "kill-switch-engaged");

    // the state is the API's: a fresh page load reads it back
    await page.reload();
    await expect(page.getByTestId("kill-switch")).toContainText("KILL SWITCH: REDUCE ONLY");

    await page.getByTestId("kill-switch").getByRole("button", { name: "Kill switch" }).click();
    const again = page.getByRole("dialog", { name: "Kill-switch mode" });
    await again.getByRole("radio", { name: /^active/ }).check();
    await again.getByRole("textbox", { name: "Reason" }).fill("e2e drill over");
    await again.getByRole("button", { name: "Review change" }).click();
    await again.getByRole("button", { name: "Confirm: set active" }).click();
    await expect(page.getByTestId("kill-switch")).toContainText("kill switch: active");
    await expect(page.getByTestId("kill-switch").getByRole("button", { name: "Kill switch" })).toBeVisible();
  });

  test("a viewer sees the mode but finds no kill-switch button", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.goto("/");
    await expect(page.getByTestId("current-user")).toContainText("viewer");
    const control = page.getByTestId("kill-switch");
    await expect(control).toContainText("kill switch: active");
    await expect(control.getByRole("button")).toHaveCount(0);
    await expect(page.getByRole("button", { name: /kill switch/i })).toHaveCount(0);
    await screenshot(page, "kill-switch-viewer");
  });
});
