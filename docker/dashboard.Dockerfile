# The Next.js dashboard (apps/dashboard). docker-compose.yml keeps it behind the `dashboard`
# profile; at run time it needs QUANT_API_URL (the API as the container reaches it).
#
# Build from the repository root (docker-compose.yml does this):
#   docker build -f docker/dashboard.Dockerfile \
#     --build-arg NEXT_PUBLIC_API_URL=https://api.example.com -t quant-dashboard:local .
# BuildKit is required for the npm cache mount.
#
# Pin NODE_IMAGE by digest in production (node:20-bookworm-slim@sha256:...). Node 20 is the
# version the dashboard's pinned packages are known to work on (shared/TOOLCHAIN.md, N2).
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install exactly the lockfile's versions, then `next build`.
FROM ${NODE_IMAGE} AS build
ENV NEXT_TELEMETRY_DISABLED=1
WORKDIR /app

# `npm install --no-save`, as `make dashboard-install` and `quant up` run it: it installs exactly
# the locked versions and never rewrites the lockfile, also against a registry mirror that lacks
# some platforms' optional packages (@next/swc-darwin-*, ...), where `npm ci` refuses (TOOLCHAIN N1).
COPY apps/dashboard/package.json apps/dashboard/package-lock.json apps/dashboard/.npmrc* ./
RUN --mount=type=cache,target=/root/.npm \
    npm install --no-audit --no-fund --no-save

COPY apps/dashboard/ ./

# NEXT_PUBLIC_* values are inlined into the browser bundle by `next build`: this is the API
# origin as the user's browser reaches it (only the health page's direct probe uses it; every
# other call goes through the dashboard's own /api routes). Changing it means rebuilding.
ARG NEXT_PUBLIC_API_URL=http://localhost:8000
ENV NEXT_PUBLIC_API_URL=${NEXT_PUBLIC_API_URL}

# `next build` needs the devDependencies (TypeScript, Tailwind); `next start` does not, so they
# are pruned afterwards (checked with Next 16.4.6: next.config.ts still loads without TypeScript).
RUN node_modules/.bin/next build \
    && npm prune --omit=dev --no-audit --no-fund \
    && rm -rf .next/cache

# --- runtime: the built app and its production dependencies, as the image's `node` user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app ./
USER node
EXPOSE 3000
# The binary itself, not `npx next start`: npx leaves an orphaned next-server when it is signalled
# (TOOLCHAIN N6). No `output: "standalone"` in next.config (N5), since this uses `next start`.
CMD ["node_modules/.bin/next", "start", "-H", "0.0.0.0", "-p", "3000"]
