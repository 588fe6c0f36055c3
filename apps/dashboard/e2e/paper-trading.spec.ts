// A strategy moved to PAPER from its page, then paper sessions run by the CLI against this stack
// (`quant trade --mode paper --replay ... --speed max`: the data service's replay on Redis
// Streams, the execution service's paper runner, PostgreSQL): positions, orders with their fills
// and history, the reconciliation state, the strategy's paper session beside its backtest, and
// the kill switch refusing entries, all as the dashboard shows them while it polls.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { screenshot, signInAs } from "./fixtures";
import { stackInfo } from "./stack-info";

const STRATEGY = "momentum_v1";
// ends while the SMA crossover is long (bought 2018-05-17), so the session keeps an open position
const OPEN_REPLAY = "2017-06-01..2018-09-28";
// the same months with entries halted: the crossover asks to buy and is refused
const HALTED_REPLAY = "2018-01-01..2018-09-28";
const SESSION_TIMEOUT_MS = 120_000;

interface Session {
  code: number;
  /** what the command printed, its line breaks and runs of spaces as one space */
  output: string;
}

function withoutColour(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  delete rest["FORCE_COLOR"];
  return rest;
}

/** Run one paper session through the CLI against the stack; resolves when the command ends. */
function paperSession(replay: string): Promise<Session> {
  const { cli } = stackInfo();
  const child = spawn(
    cli.quant,
    ["trade", "--mode", "paper", "--replay", replay, "--speed", "max", join(cli.cwd, "configs", "strategies", `${STRATEGY}.yaml`)],
    // plain text: the runner's FORCE_COLOR would make rich colour the numbers
    { cwd: cli.cwd, env: { ...withoutColour(process.env), ...cli.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), SESSION_TIMEOUT_MS);
  const done = new Promise<Session>((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: output.replace(/\s+/g, " ") });
    });
  });
  const read = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on("data", read);
  child.stderr.on("data", read);
  return done;
}

/** The strategy's newest paper session (runs list newest first), as the API stores it. */
async function newestSession(request: APIRequestContext): Promise<string> {
  const runs = await apiGet<{ items: { id: string }[] }>(request, `/v1/runs?strategy=${STRATEGY}&type=paper&per_page=1`);
  const id = runs.items[0]?.id;
  expect(id, "a paper session run").toBeTruthy();
  return id!;
}

async function adminHeaders(request: APIRequestContext): Promise<Record<string, string>> {
  const { api_url, users } = stackInfo();
  const login = await request.post(`${api_url}/v1/auth/login`, { data: users.admin });
  const { access_token } = (await login.json()) as { access_token: string };
  return { authorization: `Bearer ${access_token}` };
}

async function apiGet<T>(request: APIRequestContext, path: string): Promise<T> {
  const response = await request.get(`${stackInfo().api_url}${path}`, { headers: await adminHeaders(request) });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()) as T;
}

async function setKillSwitch(request: APIRequestContext, mode: string, reason: string): Promise<void> {
  const response = await request.put(`${stackInfo().api_url}/v1/controls/kill-switch`, {
    headers: await adminHeaders(request),
    data: { mode, reason },
  });
  expect(response.status(), await response.text()).toBe(200);
}

async function chooseSession(page: Page, runId: string): Promise<void> {
  const select = page.getByRole("combobox", { name: "paper session" });
  await expect(select.locator(`option[value="${runId}"]`)).toHaveCount(1);
  await select.selectOption(runId);
}

test.describe.serial("paper trading", () => {
  let firstSession = "";

  test.afterAll(async ({ request }) => {
    // the specs after this one find the switch active and the strategy back in BACKTEST
    const headers = await adminHeaders(request);
    const { api_url } = stackInfo();
    await request.put(`${api_url}/v1/controls/kill-switch`, { headers, data: { mode: "active", reason: "e2e cleanup" } });
    await request.post(`${api_url}/v1/controls/mode-transition`, {
      headers,
      data: { strategy_id: STRATEGY, mode: "BACKTEST", reason: "e2e cleanup" },
    });
  });

  test("an admin moves the strategy to PAPER from its page", async ({ page }) => {
    await signInAs(page, "admin");
    await page.goto(`/strategies/${STRATEGY}`);
    await expect(page.getByTestId("strategy-mode")).toHaveText("BACKTEST");
    const card = page.getByTestId("paper-vs-backtest");
    await expect(card).toContainText("No paper session yet");
    await expect(card.getByTestId("backtest-panel-facts")).toBeVisible();

    await page.getByTestId("mode-transition").getByRole("button", { name: "PAPER", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Move ${STRATEGY} to PAPER` });
    await dialog.getByRole("textbox", { name: "Reason" }).fill("e2e: paper-trade the crossover");
    await dialog.getByRole("button", { name: "Move to PAPER" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("strategy-mode")).toHaveText("PAPER");
    await screenshot(page, "paper-mode");
  });

  test("a paper session's positions and orders appear while the pages poll", async ({ page }) => {
    await signInAs(page, "admin");
    await page.goto("/positions");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Positions");
    const session = paperSession(OPEN_REPLAY);

    // no reload: the table polls, and the session's position shows up as it trades
    const positions = page.getByRole("table", { name: "positions" });
    await expect(positions.getByRole("row", { name: /SP500/ })).toBeVisible({ timeout: SESSION_TIMEOUT_MS });
    const { code, output } = await session;
    expect(code, output).toBe(0);
    expect(output).toContain("parity with the backtest of the same bars: identical");
    const runId = await newestSession(page.request);
    firstSession = runId;

    await chooseSession(page, runId);
    const row = positions.getByRole("row", { name: /SP500/ });
    await expect(row).toHaveCount(1);
    await expect(row).not.toContainText("closed");
    await expect(row.getByRole("link", { name: runId.slice(0, 8) })).toBeVisible();
    // valued at the session's last close (market value and unrealised PnL filled in)
    await expect(row.locator("td").nth(5)).not.toHaveText("—");
    const reconciliation = page.getByTestId("reconciliation-paper");
    await expect(reconciliation.getByTestId("reconciliation-state")).toHaveText("clean");
    await expect(reconciliation.getByRole("link", { name: runId.slice(0, 8) })).toBeVisible();
    await expect(reconciliation).toContainText("No differences.");
    await screenshot(page, "paper-positions");
    await page.getByTestId("reconciliation").screenshot({ path: join(__dirname, "screenshots", "reconciliation.png") });

    await page.goto("/orders");
    await chooseSession(page, runId);
    const stored = await apiGet<{ total: number; items: { id: number; status: string }[] }>(
      page.request,
      `/v1/orders?run_id=${runId}&per_page=500`,
    );
    expect(stored.total).toBeGreaterThan(0);
    expect(stored.items.every((o) => o.status === "filled")).toBe(true);
    const rows = page.getByTestId("order-row");
    await expect(rows).toHaveCount(stored.total);
    const newest = stored.items[0]!;
    await page.getByRole("button", { name: `fills and history of order ${newest.id}` }).click();
    const fills = page.getByRole("table", { name: `fills of order ${newest.id}` });
    await expect(fills.locator("tbody tr")).toHaveCount(1);
    const history = page.getByRole("list", { name: `status history of order ${newest.id}` });
    // written ahead of the broker call, then filled by the paper broker (its reports as stored)
    await expect(history.getByRole("listitem").first()).toContainText("pending_submit");
    await expect(history.getByRole("listitem").last()).toContainText("filled");
    await screenshot(page, "paper-orders");

    await page.goto(`/strategies/${STRATEGY}`);
    const card = page.getByTestId("paper-vs-backtest");
    const paper = card.getByTestId("paper-panel");
    await expect(paper).toContainText("completed");
    await expect(paper.getByRole("link", { name: runId.slice(0, 8) })).toBeVisible();
    // the session's equity as GET /v1/runs/{id}/equity holds it: a curve, or an empty state
    const equity = await apiGet<{ total_points: number }>(page.request, `/v1/runs/${runId}/equity`);
    if (equity.total_points > 0) await expect(paper.getByTestId("paper-panel-facts")).toBeVisible();
    else await expect(paper).toContainText("This session stored no equity points yet");
    await expect(card.getByTestId("backtest-panel-facts")).toBeVisible();
    await screenshot(page, "paper-vs-backtest");
  });

  test("with the kill switch on halt_entries a session sends no entry, and the refusals say why", async ({ page }) => {
    test.skip(firstSession === "", "needs the first session");
    await signInAs(page, "admin");
    await setKillSwitch(page.request, "halt_entries", "e2e: stop new entries before the next session");
    await page.goto("/orders");
    const control = page.getByTestId("kill-switch");
    await expect(control).toContainText("KILL SWITCH: HALT ENTRIES");
    await expect(control.getByTestId("kill-switch-scope")).toContainText("paper sessions obey it from their next order");

    const { output } = await paperSession(HALTED_REPLAY);
    expect(output).toContain(" 0 fills,");
    const runId = await newestSession(page.request);
    expect(runId).not.toBe(firstSession);

    const filled = await apiGet<{ total: number }>(page.request, `/v1/orders?run_id=${runId}&status=filled`);
    expect(filled.total).toBe(0);
    const held = await apiGet<{ total: number }>(page.request, `/v1/positions?run_id=${runId}`);
    expect(held.total).toBe(0);

    await chooseSession(page, runId);
    await page.getByRole("combobox", { name: "status" }).selectOption("rejected");
    const refused = page.getByTestId("order-row").first();
    await expect(refused).toHaveAttribute("data-status", "rejected");
    await expect(refused).toContainText("HALT_ENTRIES");
    await expect(refused).toContainText("the kill switch is halt_entries");
    await page.getByRole("combobox", { name: "status" }).selectOption("filled");
    await expect(page.getByText("No orders match these filters")).toBeVisible();
    await page.getByRole("combobox", { name: "status" }).selectOption("rejected");
    await expect(refused).toBeVisible();
    await screenshot(page, "kill-switch-refusals");
  });
});
