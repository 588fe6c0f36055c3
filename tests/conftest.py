"""Every test starts with an empty strategies folder of its own, never the checkout's or a
developer's (QUANT_STRATEGIES_PATH); tests about that folder point it where they need.

The suite runs on pytest-xdist workers (`make test`: `-n 3 --dist loadgroup`, ADR 0050); the
order and groups below are for them, and harmless in a run without workers.
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first, so that the workers start them early and none ends the run alone (a
    stable sort: every worker must collect the same order). Under loadgroup a test that shares
    a module-scoped fixture (a paper session, a PostgreSQL of the module's own) runs on the worker
    that has it, instead of building it again on each; and on an external Redis
    (QUANT_TEST_REDIS_URL) the tests that use it run on one worker, one at a time, as without
    workers: streams of fixed names (`bars.closed`), a FLUSHDB and broadcast channels (server-wide
    whatever the database) would collide. The embedded default gives each worker its own."""
    del config
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    external_redis = bool(os.environ.get("QUANT_TEST_REDIS_URL"))
    for item in items:
        if external_redis and "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("external-redis"))
        elif _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        definition.scope in ("module", "package", "class")
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )
