"""Telemetry every service shares: the quant_ metrics, their /metrics endpoint, structured logs."""
