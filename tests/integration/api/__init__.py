"""The /v1 API against real PostgreSQL and a real embedded Valkey."""
