"""The /metrics endpoint: an ASGI app for the API, a small HTTP server for every other service.

Multiprocess mode is on when PROMETHEUS_MULTIPROC_DIR is set in the environment before Python
starts (prometheus_client picks its value store at import): every process writes its own files in
that folder and a scrape aggregates them. Only services that fork workers need it (the API under
several uvicorn workers); single-process services leave it unset.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    make_asgi_app,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from quant_telemetry.heartbeat import mark_started

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The shared folder of multiprocess mode, or None in single-process mode."""
    return os.environ.get(MULTIPROC_ENV) or None


class _DefaultRegistry(Collector):
    """Delegates to the process's default registry, where quant_telemetry.metrics lives."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def build_registry(collectors: Iterable[Collector] = ()) -> CollectorRegistry:
    """The registry one endpoint serves: this process's (or every worker's) instruments plus the
    service's scrape-time collectors, all read afresh at each scrape."""
    registry = CollectorRegistry(support_collectors_without_names=True)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_DefaultRegistry())
    for collector in collectors:
        registry.register(collector)
    return registry


def metrics_asgi_app(collectors: Iterable[Collector] = ()) -> Callable[..., Any]:
    """An ASGI app answering GET with the Prometheus text format (mount it at /metrics)."""
    return make_asgi_app(build_registry(collectors))


def release_process() -> None:
    """On a worker's exit in multiprocess mode: drop its live gauges from the aggregate."""
    folder = multiprocess_dir()
    if folder:
        multiprocess.mark_process_dead(os.getpid(), folder)  # type: ignore[no-untyped-call]


@dataclass
class MetricsServer:
    """A running standalone /metrics server (a daemon thread); `close()` stops it."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def platform_version() -> str:
    try:
        return version("quant-telemetry")
    except PackageNotFoundError:
        return "unknown"


def serve_metrics(
    service: str,
    port: int = 0,
    host: str = "127.0.0.1",
    collectors: Iterable[Collector] = (),
) -> MetricsServer:
    """Start `service`'s /metrics on host:port (0 picks a free port) and mark the service up.

    One call for a long-running service (`quant risk run`, `quant monitoring run`, ...); the
    server answers from its own thread, so a slow scrape never blocks the service's event loop.
    """
    mark_started(service, platform_version())
    server, thread = start_http_server(port, addr=host, registry=build_registry(collectors))
    return MetricsServer(host, int(server.server_port), server, thread)
