// Fails when lib/api/schema.d.ts is not what openapi-typescript makes of lib/api/openapi.json.
// (The Python test tests/unit/test_dashboard_api_types.py fails when openapi.json is not the
// API's current document; together they catch types that are stale against the API.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "api-types-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync(
    process.execPath,
    ["node_modules/openapi-typescript/bin/cli.js", "lib/api/openapi.json", "-o", fresh],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (readFileSync(fresh, "utf8") !== readFileSync("lib/api/schema.d.ts", "utf8")) {
    console.error("lib/api/schema.d.ts is stale: run `make dashboard-api` and commit the result");
    process.exit(1);
  }
  console.log("lib/api/schema.d.ts matches lib/api/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
