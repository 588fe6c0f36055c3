# The one Python image of the platform: `quant` is the entry point, and the compose services
# migrate, api, worker and ingestion are this image with different commands.
#
# Build from the repository root (docker-compose.yml does this):
#   docker build -f docker/python.Dockerfile -t quant-platform:local .
# BuildKit is required (the default builder since Docker Engine 23) for the cache mounts.
#
# Builder and runtime MUST start from the same Python image: the venv's interpreter link and the
# `quant` script's shebang point at /usr/local/bin/python3.11 and /app/.venv. Pin PYTHON_IMAGE by
# digest in production (python:3.11-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- manifests: only the pyproject files of the workspace, so the dependency layer below is
# rebuilt when dependencies change, not on every source edit. Taking every pyproject.toml under
# packages/ and services/ (instead of listing them) keeps a new workspace member from breaking
# `uv sync --locked` here.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY packages/ packages/
COPY services/ services/
COPY apps/cli/pyproject.toml apps/cli/pyproject.toml
RUN find packages services -type f ! -name pyproject.toml -delete \
    && find packages services -depth -type d -empty -delete

# --- builder: uv installs exactly what uv.lock pins into /app/.venv.
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.8
# UV_COMPILE_BYTECODE: compile once here, not at every container start.
# UV_LINK_MODE=copy: the uv cache is a separate cache mount, hard links across it cannot work.
# UV_PYTHON_DOWNLOADS=never / UV_PYTHON: use the image's interpreter, never a downloaded one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app

# 1) third-party dependencies only (the slow, rarely changing layer)
COPY pyproject.toml uv.lock ./
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --all-packages --no-install-workspace

# 2) the workspace members themselves, as regular (non-editable) installs: the runtime stage
#    copies only the venv, so nothing may point back at /app/packages or /app/services.
COPY packages/ packages/
COPY services/ services/
COPY apps/cli/ apps/cli/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --all-packages --no-editable

# --- runtime: the venv, the strategy configs, a non-root user. No compilers, no uv, no sources.
FROM ${PYTHON_IMAGE} AS runtime
# NUMBA_CACHE_DIR: kernels are compiled with cache=True; site-packages is read-only for the
# runtime user, so numba's cache lives in a folder of its own, filled when the image is built.
# QUANT_STATE_DIR: a writable folder (a named volume in compose); never the embedded servers in
# a container, because compose always sets DATABASE_URL and REDIS_URL.
ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    QUANT_STATE_DIR=/var/lib/quant \
    NUMBA_CACHE_DIR=/app/numba-cache

# libgomp1: OpenMP runtime for numba's omp threading layer and the planned xgboost models. Every
# other native library the wheels load is bundled in them or already in the slim image (checked
# with ldd), except those of the embedded PostgreSQL, which never runs in a container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 quant \
    && useradd --system --uid 10001 --gid quant --home-dir /var/lib/quant \
       --no-create-home --shell /usr/sbin/nologin quant \
    && mkdir -p /var/lib/quant /app/reports \
    && chown quant:quant /var/lib/quant /app/reports

WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
# `quant strategies list` and the configs given by path are read relative to /app; strategies/
# is the user's strategies folder (QUANT_STRATEGIES_PATH's default), modules and configs.
COPY configs/ configs/
COPY strategies/ strategies/

# the fast path's kernels compiled once, into the image: no container's first sweep or job waits
RUN mkdir -p /app/numba-cache && quant compile && chown -R quant:quant /app/numba-cache

USER quant:quant
ENTRYPOINT ["quant"]
CMD ["--help"]

# Last, so a new commit id does not invalidate the layers above. There is no .git in the image, so
# the commit reaches run records through QUANT_CODE_VERSION (read by the backtest metadata).
ARG GIT_SHA=unknown
ENV QUANT_CODE_VERSION=${GIT_SHA}
LABEL org.opencontainers.image.title="quant-platform" \
      org.opencontainers.image.description="quant CLI: migrate, api, worker, ingestion" \
      org.opencontainers.image.revision="${GIT_SHA}"
