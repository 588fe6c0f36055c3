"""Every test starts with an empty strategies folder of its own, never the checkout's or a
developer's (QUANT_STRATEGIES_PATH); tests about that folder point it where they need.

The suite runs on pytest-xdist workers (`make test`: `-n 2 --dist worksteal`, ADR 0050); the
hooks below are for them, and harmless in a run without workers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quant_strategy.strategy_folder import ENV_VAR


@pytest.fixture(autouse=True)
def _own_strategies_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("no-strategies")
    monkeypatch.setenv(ENV_VAR, str(folder))
    return folder


def pytest_configure(config: pytest.Config) -> None:
    """An external Redis (QUANT_TEST_REDIS_URL) is one server for every xdist worker: streams
    of fixed names (`bars.closed`), a test's FLUSHDB and broadcast channels (server-wide whatever
    the database) would collide between workers, so such a run is refused up front. The
    embedded default gives each worker a Valkey of its own."""
    workers = getattr(config.option, "numprocesses", None)
    if workers and os.environ.get("QUANT_TEST_REDIS_URL"):
        raise pytest.UsageError(
            "QUANT_TEST_REDIS_URL is shared by all xdist workers and its tests would collide: "
            "run them in one process (`-n 0`, or `make test TEST_WORKERS=0`), or unset it to "
            "give each worker an embedded Valkey"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, so that the workers start them early and none ends the run alone. A
    stable sort: every worker must collect the same order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
