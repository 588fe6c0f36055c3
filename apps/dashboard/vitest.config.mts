// Component and unit tests (Vitest + Testing Library on jsdom). Browser tests live in e2e/ and run
// with Playwright against a real stack; they are excluded here.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    environment: "jsdom",
    setupFiles: ["./vitest.setup.ts"],
    include: ["**/*.test.{ts,tsx}"],
    exclude: ["node_modules/**", ".next*/**", "e2e/**"],
  },
});
