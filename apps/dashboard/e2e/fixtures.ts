// Shared steps of the browser tests: sign in through this app's BFF, save a screenshot, wait for
// the API's state. Every number the tests see comes from the stack started by e2e/stack.py.
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { stackInfo, type Role } from "./stack-info";

export const SCREENSHOTS = join(__dirname, "screenshots");

/** Sign in as `role` the way the sign-in form does (POST /api/auth/login sets httpOnly cookies). */
export async function signInAs(page: Page, role: Role): Promise<void> {
  const { username, password } = stackInfo().users[role];
  const response = await page.request.post("/api/auth/login", { data: { username, password } });
  expect(response.status(), await response.text()).toBe(200);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The page has answered: no loading placeholders and no error states left. */
export async function settled(page: Page): Promise<void> {
  await expect(page.getByRole("status")).toHaveCount(0);
  await expect(page.getByRole("alert").filter({ hasText: "Could not load" })).toHaveCount(0);
}

export async function apiIsUp(): Promise<boolean> {
  try {
    const response = await fetch(`${stackInfo().api_url}/v1/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Ask e2e/stack.py to stop (SIGUSR1) or restart (SIGUSR2) the API, and wait until it has. */
export async function setApi(state: "down" | "up", timeoutMs = 120_000): Promise<void> {
  process.kill(stackInfo().pids.stack, state === "down" ? "SIGUSR1" : "SIGUSR2");
  await expect
    .poll(apiIsUp, { timeout: timeoutMs, intervals: [250, 500, 1_000], message: `the API should be ${state}` })
    .toBe(state === "up");
}

export interface NewAlert {
  severity: string;
  source: string;
  message: string;
  strategy_id?: string;
}

/** Add alert rows to the stack's database the way a service raises them (e2e/raise_alert.py);
 * returns their ids in order. */
export function raiseAlerts(alerts: NewAlert[]): number[] {
  const { cli } = stackInfo();
  const python = join(dirname(cli.quant), "python");
  const out = execFileSync(python, [join(__dirname, "raise_alert.py"), JSON.stringify(alerts)], {
    cwd: cli.cwd,
    env: { ...process.env, ...cli.env },
    encoding: "utf8",
  });
  return out.trim().split("\n").map(Number);
}

/** A bearer header for `role`, signed in straight at the API (for checks behind the page's back). */
export async function apiHeaders(request: APIRequestContext, role: Role): Promise<Record<string, string>> {
  const { api_url, users } = stackInfo();
  const login = await request.post(`${api_url}/v1/auth/login`, { data: users[role] });
  expect(login.status(), await login.text()).toBe(200);
  const { access_token } = (await login.json()) as { access_token: string };
  return { authorization: `Bearer ${access_token}` };
}

export interface BreakerTrips {
  run_id: string;
  changes: { rule: string; mode: string; at: string }[];
}

/** Plant losses in a paper session of `strategyId` and let the risk service's code evaluate
 * them (e2e/trip_breakers.py): the breakers trip as they would live. */
export function tripBreakers(strategyId: string): BreakerTrips {
  const { cli } = stackInfo();
  const python = join(dirname(cli.quant), "python");
  const out = execFileSync(python, [join(__dirname, "trip_breakers.py"), strategyId], {
    cwd: cli.cwd,
    env: { ...process.env, ...cli.env },
    encoding: "utf8",
  });
  return JSON.parse(out) as BreakerTrips;
}
