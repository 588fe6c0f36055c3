// The Models page on a real stack: a model trained by a queued train run (POST /v1/runs type
// train, run by the stack's worker through quant_models), its registry row, its page (folds,
// importances, lineage, stage history), a viewer told why they cannot change its stage, an
// admin's promotion through the server's gate with a reason, and the training run's page.
import { expect, test, type APIRequestContext } from "@playwright/test";
import { apiHeaders, screenshot, settled, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

interface RunState {
  status: string;
  progress: number;
  message: string;
  error: string | null;
}

/** Queue a train run of configs/training/synthetic_direction.yaml as the trader, wait for the
 * worker to finish it, and return the id of the model it registered. */
async function trainThroughTheApi(request: APIRequestContext): Promise<{ runId: string; modelId: number }> {
  const { api_url } = stackInfo();
  const headers = await apiHeaders(request, "trader");
  const queued = await request.post(`${api_url}/v1/runs`, {
    headers,
    data: { type: "train", training: { config: "synthetic_direction" } },
  });
  expect(queued.status(), await queued.text()).toBe(202);
  const { id: runId } = (await queued.json()) as { id: string };
  let run: RunState | undefined;
  await expect
    .poll(
      async () => {
        run = (await (await request.get(`${api_url}/v1/runs/${runId}`, { headers })).json()) as RunState;
        return run.status;
      },
      { timeout: 240_000, intervals: [500, 1_000, 2_000] },
    )
    .toMatch(/completed|failed|cancelled/);
  expect(run?.status, run?.error ?? "").toBe("completed");
  expect(run?.progress).toBe(1);
  const models = (await (await request.get(`${api_url}/v1/models?run_id=${runId}`, { headers })).json()) as {
    items: { id: number }[];
  };
  expect(models.items).toHaveLength(1);
  return { runId, modelId: models.items[0]!.id };
}

test.describe("models", () => {
  test("a model trained by a queued run is listed, explained, and promoted by an admin", async ({ page, request }) => {
    test.setTimeout(360_000);
    const { runId, modelId } = await trainThroughTheApi(request);

    // a viewer reads the registry and the model, and is told why the stage buttons are not there
    await signInAs(page, "viewer");
    await page.goto("/models");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Models");
    const table = page.getByRole("table", { name: "models" });
    const row = table.locator(`[data-model-id="${modelId}"]`);
    await expect(row.getByTestId("stage-badge")).toHaveText("candidate");
    await expect(row.getByRole("link", { name: `run ${runId.slice(0, 8)}` })).toBeVisible();
    await settled(page);
    await screenshot(page, "models-registry");

    await row.getByRole("link", { name: /synthetic_direction v\d+/ }).click();
    await expect(page).toHaveURL(new RegExp(`/models/${modelId}$`));
    await expect(page.getByTestId("model-stage")).toHaveText("candidate");
    await expect(page.getByRole("table", { name: "walk-forward folds" }).getByRole("row")).toHaveCount(6); // header + 5 folds
    await expect(page.getByRole("table", { name: "cpcv folds" })).toBeVisible();
    await expect(page.getByRole("list", { name: "feature importances" }).getByRole("meter")).toHaveCount(12);
    await expect(page.getByTestId("artifact-sha")).toHaveText(/^[0-9a-f]{64}$/);
    await expect(page.getByRole("link", { name: `run ${runId.slice(0, 8)}` })).toBeVisible();
    await expect(page.getByRole("table", { name: "stage history" })).toContainText("registered → candidate");
    await expect(page.getByTestId("stage-denied")).toContainText("Only an admin can promote or demote a model");
    await expect(page.getByRole("button", { name: /Promote/ })).toHaveCount(0);
    await settled(page);
    await screenshot(page, "model-viewer");

    // an admin promotes it with a reason; the server's gate lets it into paper
    await page.context().clearCookies();
    await signInAs(page, "admin");
    await page.goto(`/models/${modelId}`);
    await page.getByRole("button", { name: "Promote to paper" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Reason" }).fill("e2e: walk-forward and CPCV agree");
    await dialog.getByRole("button", { name: "Promote to paper" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("model-stage")).toHaveText("paper");
    await expect(page.getByRole("table", { name: "stage history" })).toContainText("e2e: walk-forward and CPCV agree");
    await expect(page.getByRole("table", { name: "stage history" })).toContainText("admin");
    await expect(page.getByTestId("stage-done")).toContainText("candidate → paper by admin");
    await screenshot(page, "model-promoted");

    // the run that trained it says so, and links back to the model
    await page.getByRole("link", { name: `run ${runId.slice(0, 8)}` }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
    await expect(page.getByRole("heading", { level: 1 })).toContainText("model training · train");
    await expect(page.getByTestId("trained-model")).toContainText(`(#${modelId}) · paper`);
    await settled(page);
    await screenshot(page, "model-training-run");
  });
});
