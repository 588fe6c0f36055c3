// Frame times while a user drags and zooms a run's equity chart in the dashboard.
//
// Run against a running platform (e.g. `make demo`, whose momentum_v1 run holds 20 years of daily
// equity: 5,031 points, drawn as <= 1,000 after the API's downsampling):
//   node bench/chart_smoothness.mjs http://127.0.0.1:3000 <run id> [username] [password]
// Prints the frame intervals (requestAnimationFrame) during 3 rounds of 40 drag steps and 30
// wheel zooms: ~16.7 ms is 60 frames/s. Needs /usr/bin/chromium and apps/dashboard's node_modules.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "apps", "dashboard", "package.json"));
const { chromium } = require("playwright-core");
const [base, run, username = "demo", password = "demo-password"] = process.argv.slice(2);
if (!base || !run) {
  console.error("usage: node bench/chart_smoothness.mjs DASHBOARD_URL RUN_ID [USERNAME] [PASSWORD]");
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/signin`);
await page.getByLabel("Username").fill(username);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(`${base}/`);
await page.goto(`${base}/runs/${run}`);
const chart = page.getByRole("img", { name: "equity curve" });
await chart.locator("canvas").first().waitFor();
const points = await page.evaluate(async (id) => (await (await fetch(`/api/v1/runs/${id}/equity?points=1000`)).json()).total_points, run);
const box = await chart.boundingBox();
await page.evaluate(() => { window.__frames = []; let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__frames.length < 100000) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); });
const x = box.x + box.width / 2, y = box.y + box.height / 2;
for (let round = 0; round < 3; round++) {
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 0; i < 40; i++) await page.mouse.move(x - i * 10, y);
  await page.mouse.up();
  for (let i = 0; i < 15; i++) await page.mouse.wheel(0, -120);
  for (let i = 0; i < 15; i++) await page.mouse.wheel(0, 120);
}
const frames = (await page.evaluate(() => window.__frames)).slice(2).sort((a, b) => a - b);
const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))].toFixed(1);
console.log(`equity points stored ${points}, drawn <= 1000; frames ${frames.length}: median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${frames[frames.length - 1].toFixed(1)} ms`);
await browser.close();
