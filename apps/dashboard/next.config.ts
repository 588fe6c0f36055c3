import type { NextConfig } from "next";

// The browser only talks to this app's own route handlers (/api/...); they forward to the API
// with the session's token (ADR 0011). No output: "standalone": `next start` serves the build.
const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
