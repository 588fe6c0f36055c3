import { expect, test } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("kill switch", () => {
  test.afterEach(async ({ request }) => {
    // a failed run of the admin test must not leave trading halted for the tests after it
    const { api_url, users } = stackInfo();
    const login = await request.post(`${api_url}/v1/auth/login`, { data: users.admin });
    const { access_token } = (await login.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}` };
    const state = (await (await request.get(`${api_url}/v1/controls/kill-switch`, { headers })).json()) as { engaged: boolean };
    if (state.engaged) {
      await request.post(`${api_url}/v1/controls/kill-switch`, { headers, data: { engaged: false, reason: "e2e cleanup" } });
    }
  });

  test("an admin trips it with a reason and re-arms it", async ({ page }) => {
    await signInAs(page, "admin");
    await page.goto("/");
    const control = page.getByTestId("kill-switch");
    await expect(control).toContainText("trading armed");

    await control.getByRole("button", { name: "Kill switch" }).click();
    const engage = page.getByRole("dialog", { name: "Engage the kill switch" });
    await expect(engage).toBeVisible();
    await expect(engage.getByRole("button", { name: "Engage kill switch" })).toBeDisabled();
    await engage.getByRole("textbox", { name: "Reason" }).fill("e2e drill: broker unreachable");
    await screenshot(page, "kill-switch-dialog");
    await engage.getByRole("button", { name: "Engage kill switch" }).click();
    await expect(engage).toBeHidden();
    await expect(control).toContainText("KILL SWITCH ENGAGED");
    await screenshot(page, "kill-switch-engaged");

    // the state is the API's: a fresh page load reads it back
    await page.reload();
    await expect(page.getByTestId("kill-switch")).toContainText("KILL SWITCH ENGAGED");

    await page.getByTestId("kill-switch").getByRole("button", { name: "Re-arm" }).click();
    const rearm = page.getByRole("dialog", { name: "Re-arm trading" });
    await rearm.getByRole("textbox", { name: "Reason" }).fill("e2e drill over");
    await rearm.getByRole("button", { name: "Re-arm trading" }).click();
    await expect(page.getByTestId("kill-switch")).toContainText("trading armed");
    await expect(page.getByTestId("kill-switch").getByRole("button", { name: "Kill switch" })).toBeVisible();
  });

  test("a viewer sees the state but finds no kill-switch button", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.goto("/");
    await expect(page.getByTestId("current-user")).toContainText("viewer");
    const control = page.getByTestId("kill-switch");
    await expect(control).toContainText("trading armed");
    await expect(control.getByRole("button")).toHaveCount(0);
    await expect(page.getByRole("button", { name: /kill switch|re-arm/i })).toHaveCount(0);
    await screenshot(page, "kill-switch-viewer");
  });
});
