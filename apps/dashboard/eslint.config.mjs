// Next's own rule sets (React, hooks, a11y, Core Web Vitals, TypeScript); lint must be clean.
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    ".next*/**",
    "node_modules/**",
    "lib/api/schema.d.ts",
    "next-env.d.ts",
    "playwright-report/**",
    "test-results/**",
    "e2e/screenshots/**",
  ]),
]);
