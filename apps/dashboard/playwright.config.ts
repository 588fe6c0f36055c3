// Browser tests against a real stack: globalSetup starts e2e/stack.py (PostgreSQL, Valkey, the API,
// a worker, seeded runs); webServer serves the production build with `next start`. Debian's
// Chromium drives them (`make chromium`; never `playwright install`).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { defineConfig } from "@playwright/test";

/** A free TCP port, picked once by the runner; workers inherit it through the environment. */
function freePort(): string {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim();
}

process.env["E2E_API_PORT"] ||= freePort();
process.env["E2E_WEB_PORT"] ||= freePort();
// shared by the dashboard (webServer) and the API (e2e/stack.py inherits it): the dashboard names
// each browser's address with it, so sign-ins are counted per browser (ADR 0016)
process.env["QUANT_PROXY_SECRET"] ||= randomBytes(32).toString("hex");
const API_URL = `http://127.0.0.1:${process.env["E2E_API_PORT"]}`;
const WEB_PORT = process.env["E2E_WEB_PORT"];

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  globalSetup: "./e2e/global-setup.ts",
  workers: 1, // one stack; the outage and kill-switch tests change it for everyone
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  forbidOnly: Boolean(process.env["CI"]),
  use: {
    baseURL: `http://127.0.0.1:${WEB_PORT}`,
    browserName: "chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env["CHROMIUM_PATH"] || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
    },
  },
  webServer: {
    command: `node_modules/.bin/next start -p ${WEB_PORT} -H 127.0.0.1`,
    url: `http://127.0.0.1:${WEB_PORT}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      QUANT_API_URL: API_URL,
      QUANT_PROXY_SECRET: process.env["QUANT_PROXY_SECRET"],
    },
  },
});
