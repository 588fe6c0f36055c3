import type { NextConfig } from "next";

// The browser only talks to this app's own route handlers (/api/...); they forward to the API
// with the session's token (ADR 0011). No output: "standalone": `next start` serves the build.
const nextConfig: NextConfig = {
  // NEXT_DIST_DIR lets two builds of this folder coexist (e.g. the browser tests' own build)
  distDir: process.env["NEXT_DIST_DIR"] || ".next",
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
