// Starts e2e/stack.py (a real API, worker and database with seeded runs) and waits for its
// stack.json; the returned teardown stops it with SIGTERM, which stops its children.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { STACK_FILE, STACK_LOG, type StackInfo } from "./stack-info";

const READY_TIMEOUT_MS = 300_000;

function python(): string {
  const configured = process.env["E2E_PYTHON"];
  if (configured) return configured;
  const venv = resolve(__dirname, "../../../.venv/bin/python");
  if (!existsSync(venv)) throw new Error(`no ${venv}: run \`make setup\` first (or set E2E_PYTHON)`);
  return venv;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (process.env["E2E_REUSE_STACK"] && existsSync(STACK_FILE)) {
    // iterating on the specs: keep a stack.py that is already up (E2E_API_PORT must be its port)
    return async () => {};
  }
  mkdirSync(join(__dirname, ".stack"), { recursive: true });
  rmSync(STACK_FILE, { force: true });
  const log = openSync(STACK_LOG, "w");
  const args = [
    join(__dirname, "stack.py"),
    "--api-port",
    process.env["E2E_API_PORT"] ?? "0",
    "--dashboard-origin",
    `http://127.0.0.1:${process.env["E2E_WEB_PORT"]}`,
    "--out",
    STACK_FILE,
  ];
  const started = Date.now();
  const child = spawn(python(), args, { stdio: ["ignore", log, log] });
  let exited: number | null = null;
  child.on("exit", (code) => {
    exited = code ?? -1;
  });

  const teardown = async () => {
    if (exited !== null) return;
    const gone = new Promise<void>((done) => child.once("exit", () => done()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await gone;
    clearTimeout(timer);
  };

  while (!existsSync(STACK_FILE)) {
    if (exited !== null) {
      throw new Error(`e2e/stack.py exited with ${exited} before it was ready:\n${readFileSync(STACK_LOG, "utf8").slice(-4000)}`);
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await teardown();
      throw new Error(`e2e/stack.py was not ready in ${READY_TIMEOUT_MS / 1000} s; see ${STACK_LOG}`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  const info = JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackInfo;
  console.log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s: API ${info.api_url}`);
  return teardown;
}
