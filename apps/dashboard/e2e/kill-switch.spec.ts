import { expect, test } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";

test.describe("kill switch", () => {
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
