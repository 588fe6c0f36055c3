"""A service says it is up (quant_service_info) and alive (its heartbeat timestamp)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from quant_telemetry.metrics import SERVICE_HEARTBEAT, SERVICE_INFO


def mark_started(service: str, version: str) -> None:
    """Export quant_service_info{service,version} = 1 and a first heartbeat."""
    SERVICE_INFO.labels(service=service, version=version).set(1)
    beat(service)


def beat(service: str) -> None:
    """Call from the service's main loop: a stalled loop shows as a heartbeat that stops moving."""
    SERVICE_HEARTBEAT.labels(service=service).set(time.time())


async def keep_beating(service: str, stop: asyncio.Event, interval: float = 5.0) -> None:
    """Beat every `interval` seconds on the service's event loop until `stop`: a loop blocked
    by a runaway task shows as a heartbeat that stops moving."""
    while not stop.is_set():
        beat(service)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
