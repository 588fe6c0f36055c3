"""The /v1 HTTP API: FastAPI, JWT auth with roles, rate limits, one error envelope."""
