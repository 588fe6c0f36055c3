// Dashboard benchmarks: (a) first-load JavaScript per route of the production build, gzipped;
// (b) time to a rendered overview on a warm `next start` server, signed in, in headless Chromium.
//
// Run (after `make dashboard-build`, with `make setup` done and Chromium installed):
//   node bench/dashboard.mjs [--runs 10] [--stack apps/dashboard/e2e/.stack/stack.json] [--size-only]
//
// (a) reads the build's manifests: build-manifest.json's rootMainFiles (the runtime every page
//     loads) plus, for each app route, the entryJSFiles of its layouts and page in
//     server/app/<route>_client-reference-manifest.js; each distinct file is gzipped (zlib level 6,
//     as `next start` compresses) and summed. Target: < 200 kB gzipped per route.
// (b) uses the stack of apps/dashboard/e2e/stack.py (started here unless --stack names a running
//     one's stack.json) and its own `next start`; one warm-up, then --runs navigations to / with a
//     signed-in session, each timed from navigation start (performance.now() in the page) until
//     the summary stats and the equity chart's canvas are rendered. Reported twice: a fresh browser
//     context per run (no HTTP cache: a first visit) and one reused context (a returning user).
//     Target: median < 1 s locally.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, platform, arch, release } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DASH = join(ROOT, "apps", "dashboard");
const DIST = join(DASH, process.env.NEXT_DIST_DIR || ".next");
const require = createRequire(join(DASH, "package.json"));
const TARGET_KB = 200;
const TARGET_MS = 1000;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
}
const RUNS = Number(option("runs", "10"));
const SIZE_ONLY = process.argv.includes("--size-only");

// ---- (a) first-load JS per route ------------------------------------------------------------------

function clientManifest(file) {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf("= {");
  return JSON.parse(text.slice(start + 2).trim().replace(/;$/, ""));
}

function firstLoadSizes() {
  if (!existsSync(join(DIST, "BUILD_ID"))) throw new Error(`no production build in ${DIST}: run \`make dashboard-build\``);
  const build = JSON.parse(readFileSync(join(DIST, "build-manifest.json"), "utf8"));
  const routes = JSON.parse(readFileSync(join(DIST, "app-path-routes-manifest.json"), "utf8"));
  const gz = new Map();
  const sizeOf = (file) => {
    if (!gz.has(file)) {
      const bytes = readFileSync(join(DIST, file.replace(/^\/_next\//, "")));
      gz.set(file, { raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length });
    }
    return gz.get(file);
  };
  const rows = [];
  for (const [entry, route] of Object.entries(routes)) {
    if (!entry.endsWith("/page") || route.startsWith("/_")) continue;
    const manifestFile = join(DIST, "server", "app", `${entry}_client-reference-manifest.js`);
    if (!existsSync(manifestFile)) continue;
    const manifest = clientManifest(manifestFile);
    const files = new Set(build.rootMainFiles);
    for (const list of Object.values(manifest.entryJSFiles ?? {})) for (const file of list) files.add(file);
    let raw = 0;
    let gzip = 0;
    for (const file of files) {
      const size = sizeOf(file);
      raw += size.raw;
      gzip += size.gzip;
    }
    rows.push({ route, files: files.size, raw, gzip });
  }
  rows.sort((a, b) => a.route.localeCompare(b.route));
  return rows;
}

// ---- (b) time to a rendered overview --------------------------------------------------------------

function freePort() {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${what} was not ready in ${timeoutMs / 1000} s`);
}

async function answers(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function startStack() {
  const given = option("stack", null);
  if (given) return { info: JSON.parse(readFileSync(given, "utf8")), stop: async () => {} };
  const out = join(DASH, "e2e", ".stack", "bench-stack.json");
  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const python = process.env.E2E_PYTHON || join(ROOT, ".venv", "bin", "python");
  const child = spawn(python, [join(DASH, "e2e", "stack.py"), "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
  let exited = null;
  child.on("exit", (code) => (exited = code));
  await waitFor(() => {
    if (exited !== null) throw new Error(`stack.py exited with ${exited}`);
    return existsSync(out);
  }, 300_000, "e2e/stack.py");
  const stop = async () => {
    if (exited !== null) return;
    const gone = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await gone;
  };
  return { info: JSON.parse(readFileSync(out, "utf8")), stop };
}

async function startNext(apiUrl) {
  const port = freePort();
  const child = spawn(join(DASH, "node_modules", ".bin", "next"), ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: DASH,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", QUANT_API_URL: apiUrl },
    stdio: "ignore",
    detached: true, // its own process group: stopping it stops next-server too
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(() => answers(`${base}/api/health`), 60_000, "next start");
  return { base, stop: () => process.kill(-child.pid, "SIGTERM") };
}

const RENDERED = () => {
  const stats = document.querySelector('[data-testid="summary-stats"]');
  const canvas = document.querySelector('[role="img"][aria-label="headline equity curves"] canvas');
  return stats && canvas && canvas.width > 0 && canvas.getBoundingClientRect().height > 0 ? performance.now() : null;
};

/** Milliseconds from navigation start to a rendered overview, and the JS bytes that came over the wire. */
async function timeOverview(context, base) {
  const page = await context.newPage();
  await page.goto(`${base}/`, { waitUntil: "commit" });
  const handle = await page.waitForFunction(RENDERED, null, { polling: "raf", timeout: 30_000 });
  const ms = await handle.jsonValue();
  const detail = await page.evaluate(() => {
    const resources = performance.getEntriesByType("resource");
    const summary = resources.find((entry) => entry.name.includes("/api/v1/metrics/summary"));
    const nav = performance.getEntriesByType("navigation")[0];
    return {
      scriptBytes: resources
        .filter((entry) => entry.initiatorType === "script" || entry.name.endsWith(".js"))
        .reduce((sum, entry) => sum + entry.transferSize, 0),
      domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
      summaryStart: summary ? summary.startTime : null,
      summaryMs: summary ? summary.responseEnd - summary.startTime : null,
    };
  });
  await page.close();
  lastScriptBytes = detail.scriptBytes;
  phases.push(detail);
  return ms;
}
const phases = [];
let lastScriptBytes = 0;

async function signedInContext(browser, base, user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const response = await context.request.post(`${base}/api/auth/login`, { data: user });
  if (!response.ok()) throw new Error(`sign-in failed: ${response.status()} ${await response.text()}`);
  return context;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function renderTimes() {
  const { chromium } = require("playwright-core");
  const stack = await startStack();
  const next = await startNext(stack.info.api_url);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  try {
    const user = stack.info.users.admin;
    const warm = await signedInContext(browser, next.base, user);
    await timeOverview(warm, next.base); // warm-up: server caches, route compiled into memory
    const fresh = [];
    for (let i = 0; i < RUNS; i += 1) {
      const context = await signedInContext(browser, next.base, user);
      fresh.push(await timeOverview(context, next.base));
      await context.close();
    }
    const wireKb = lastScriptBytes / 1024;
    const reused = [];
    for (let i = 0; i < RUNS; i += 1) reused.push(await timeOverview(warm, next.base));
    await warm.close();
    return { fresh, reused, wireKb };
  } finally {
    await browser.close();
    next.stop();
    await stack.stop();
  }
}

// ---- report ---------------------------------------------------------------------------------------

const kb = (bytes) => (bytes / 1024).toFixed(1);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${platform()} ${arch()} ${release()}, Node ${process.version}`);
console.log(`command: node bench/dashboard.mjs${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}\n`);
const rows = firstLoadSizes();
console.log(`First-load JavaScript per route (${DIST.replace(ROOT + "/", "")}, gzip level 6; target < ${TARGET_KB} kB)`);
console.log("| route | files | raw kB | gzipped kB | target |");
console.log("|---|---:|---:|---:|---|");
for (const row of rows) {
  console.log(`| \`${row.route}\` | ${row.files} | ${kb(row.raw)} | ${kb(row.gzip)} | ${row.gzip / 1024 < TARGET_KB ? "met" : "NOT met"} |`);
}
let failed = rows.some((row) => row.gzip / 1024 >= TARGET_KB);
if (!SIZE_ONLY) {
  const { fresh, reused, wireKb } = await renderTimes();
  const line = (name, values) =>
    `| ${name} | ${values.length} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${median(values) < TARGET_MS ? "met" : "NOT met"} |`;
  console.log(`\nTime to a rendered overview (summary stats + equity canvas), warm server, ms; target median < ${TARGET_MS} ms`);
  console.log("| browser | runs | median | min | max | target |");
  console.log("|---|---:|---:|---:|---:|---|");
  console.log(line("fresh context (no HTTP cache)", fresh));
  console.log(line("reused context (returning user)", reused));
  console.log(`\nJavaScript transferred for / in a fresh context (next start gzips): ${wireKb.toFixed(1)} kB`);
  const measured = phases.slice(1); // without the warm-up
  const med = (key) => median(measured.map((p) => p[key]).filter((v) => v !== null)).toFixed(0);
  console.log(
    `where the time goes (medians, ms from navigation start): DOMContentLoaded ${med("domContentLoaded")}, ` +
      `GET /api/v1/metrics/summary starts at ${med("summaryStart")} and takes ${med("summaryMs")} (proxy + API)`,
  );
  failed ||= median(fresh) >= TARGET_MS;
}
process.exitCode = failed ? 1 : 0;
