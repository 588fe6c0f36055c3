import { expect, test } from "@playwright/test";
import { screenshot, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

test.describe("API keys", () => {
  test("a key made on the settings page works against the API until it is revoked there", async ({ page }) => {
    await signInAs(page, "trader");
    await page.goto("/settings");
    const card = page.getByTestId("api-keys");
    await expect(card).toBeVisible();
    await expect(card.getByLabel("Role").locator("option")).toHaveText(["viewer", "trader"]);
    const name = `e2e-${Date.now()}`;
    await card.getByLabel("Name").fill(name);
    await card.getByLabel("Role").selectOption("trader");
    await card.getByRole("button", { name: "Create key" }).click();
    const shown = card.getByTestId("new-api-key").locator("code");
    await expect(shown).toHaveText(/^qk_[a-z0-9]{12}_/);
    const key = (await shown.textContent()) ?? "";
    await screenshot(page, "settings-api-key-created");

    const api = stackInfo().api_url;
    const me = await fetch(`${api}/v1/auth/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe(stackInfo().users.trader.username);

    await card.getByRole("button", { name: `Revoke ${name}` }).click();
    await expect(card.getByRole("row").filter({ hasText: name })).toContainText("revoked");
    const write = await fetch(`${api}/v1/runs`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ strategy_id: stackInfo().strategy_id }),
    });
    expect(write.status).toBe(401);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe("token_revoked");
  });
});
