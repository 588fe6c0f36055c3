"""schemathesis against /v1/openapi.json, in process, signed in as admin: no 5xx, schema-true.

schemathesis' lazy pytest integration (`schemathesis.pytest.from_fixture`) fails on pytest 9.2
(it sets the private `Function._nodeid`), and the app needs a database from a fixture, so this
drives schemathesis' documented Python API instead: one Hypothesis test per operation and mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from quant_api.app import create_app
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder, days

EXAMPLES = 25  # per operation and mode: about 20 s for the whole API

# Half of the path ids are real rows, so success answers are checked too, not only 404s.
CONFIG = """
[generation]
database = "none"
# the admin token goes with every call; generating or dropping it would test nothing
with-security-parameters = false

[checks.negative_data_rejection]
# a body over the route's size limit is refused unread (413), before any schema check
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[parameters]
"path.run_id" = {{ dictionary = "runs", probability = 0.5 }}
"path.strategy_id" = {{ dictionary = "strategies", probability = 0.5 }}
"path.alert_id" = {{ dictionary = "alerts", probability = 0.5 }}
"path.position_id" = {{ dictionary = "positions", probability = 0.5 }}
"query.symbol" = {{ dictionary = "symbols", probability = 0.5 }}

[dictionaries.runs]
values = [{runs}]

[dictionaries.strategies]
values = ["momentum_v1", "buy_and_hold"]

[dictionaries.symbols]
values = ["SP500", "GOOG"]

[dictionaries.alerts]
values = [{alerts}]

[dictionaries.positions]
values = [{positions}]
"""

# The schema cannot say which strategy ids exist or which params a strategy class takes; those
# schema-valid requests get a 422 by design, so "positive data is accepted" cannot hold here.
EXCLUDED_CHECKS = [positive_data_acceptance]


@dataclass(frozen=True)
class Target:
    schema: Any
    headers: dict[str, str]


@pytest.fixture
def target(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[Target]:
    """Seed through one app instance, then hand a second one (same settings) to schemathesis."""
    api_settings = make_settings(tmp_path)
    with TestClient(create_app(api_settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        admin = seed.user("fuzz-admin", Role.ADMIN)
        done = seed.run(
            equity=[(t, 100 + i) for i, t in enumerate(days(30))],
            report="<p>r</p>",
            config={"universe": ["SP500"], "benchmark": "GOOG"},
        )
        queued = seed.run(status=RunStatus.QUEUED)
        walk_forward = seed.run(run_type=RunType.WALK_FORWARD, status=RunStatus.RUNNING)
        alerts = [seed.alert(), seed.alert()]
        position = seed.position(done)
        seed.order(done)
    config = schemathesis.Config.from_str(
        CONFIG.format(
            runs=f'"{done}", "{queued}", "{walk_forward}"',
            alerts=", ".join(map(str, alerts)),
            positions=str(position),
        )
    )
    app = create_app(api_settings, database_url, redis_url)
    try:
        # schemathesis starts the app's lifespan on its own event loop thread
        yield Target(
            schemathesis.openapi.from_asgi("/v1/openapi.json", app, config=config), admin.headers
        )
    finally:
        asgi.shutdown_lifespans()


def test_every_operation_answers_per_its_schema(target: Target) -> None:
    failures: list[str] = []
    operations = 0
    for result in target.schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=target.headers, excluded_checks=EXCLUDED_CHECKS)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break: no params, no body
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations == 50
    assert not failures, "\n\n".join(failures)
