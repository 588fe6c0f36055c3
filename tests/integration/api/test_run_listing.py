"""The runs list tells runs apart (params, dates, data, label, star) and sorts and filters them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_db.schema import AuditEntry, Run
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder, days


@pytest.fixture
def trader(seed: Seeder) -> Person:
    return seed.user("trader", Role.TRADER)


def _list(client: TestClient, person: Person, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/v1/runs?per_page=100{query}", headers=person.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _patch(client: TestClient, person: Person, run: uuid.UUID, body: dict[str, Any]) -> Any:
    return client.patch(f"/v1/runs/{run}", json=body, headers=person.headers)


def test_a_listed_run_shows_its_params_overrides_dates_capital_and_data_source(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    points = days(3)
    done = seed.run(
        config={
            "params": {"fast": 10, "slow": 50},
            "universe": ["SP500"],
            "start": "2019-01-01",
            # the YAML's walk_forward block rides along in a backtest's config, unused
            "walk_forward": {"parameter_grid": {"fast": [5, 10]}},
        },
        backtest_config={"initial_capital": "250000", "start": "2020-01-02", "end": None},
        repro={"data_source": "samples", "code_version": "abc"},
        equity=[(t, 100 + i) for i, t in enumerate(points)],
    )
    entry = {item["id"]: item for item in _list(client, trader)}[str(done)]
    assert entry["params"] == {"fast": 10, "slow": 50}
    assert entry["parameter_grid"] is None
    assert entry["symbols"] == ["SP500"]
    # the backtest's own dates win over the config's; no end asked: null
    assert (entry["requested_start"], entry["requested_end"]) == ("2020-01-02", None)
    covered = (entry["covered_start"], entry["covered_end"])
    assert covered == (
        points[0].isoformat().replace("+00:00", "Z"),
        points[-1].isoformat().replace("+00:00", "Z"),
    )
    assert (entry["capital"], entry["data_source"]) == (250000, "samples")
    assert (entry["label"], entry["is_reference"], entry["params_overrides"]) == (None, False, None)


def test_a_run_queued_through_the_api_records_the_params_it_overrode(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    response = client.post(
        "/v1/runs",
        json={"strategy_id": "momentum_v1", "params": {"fast": 10}},
        headers=trader.headers,
    )
    assert response.status_code == 202, response.text
    entry = _list(client, trader)[0]
    assert entry["params_overrides"] == {"fast": 10}
    assert entry["params"]["fast"] == 10
    assert entry["params"]["slow"] == 50
    assert (entry["covered_start"], entry["data_source"]) == (None, None)  # not run yet
    detail = client.get(f"/v1/runs/{response.json()['id']}", headers=trader.headers).json()
    assert detail["params_overrides"] == {"fast": 10}


def test_a_walk_forward_lists_its_parameter_grid(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    grid = {"fast": [5, 10], "slow": [50, 100]}
    run = seed.run(run_type=RunType.WALK_FORWARD, config={"walk_forward": {"parameter_grid": grid}})
    assert _list(client, trader)[0]["id"] == str(run)
    assert _list(client, trader)[0]["parameter_grid"] == grid


def test_odd_stored_configs_give_empty_fields_not_a_failed_listing(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    seed.run(
        config={"params": "fast=10", "universe": "SP500", "start": 20200101},
        backtest_config={"initial_capital": "lots", "start": "not a date"},
    )
    entry = _list(client, trader)[0]
    assert (entry["params"], entry["symbols"], entry["requested_start"], entry["capital"]) == (
        {},
        [],
        None,
        None,
    )


def _three_scored_runs(seed: Seeder) -> dict[str, uuid.UUID]:
    return {
        "low": seed.run(metrics={"sharpe": 0.4, "total_return": 0.3, "num_trades": 9}),
        "high": seed.run(metrics={"sharpe": 1.9, "total_return": -0.1, "num_trades": 2}),
        "running": seed.run(status=RunStatus.RUNNING, metrics={"sharpe": 9.0}),
        "none": seed.run(metrics={"total_return": 0.05}),  # stored no Sharpe
        "mid": seed.run(metrics={"sharpe": 1.1, "total_return": 0.3, "num_trades": 5}),
    }


def test_runs_sort_by_a_key_metric_either_way_with_runs_lacking_it_last(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    runs = {name: str(run) for name, run in _three_scored_runs(seed).items()}
    by_sharpe = _ids(_list(client, trader, "&sort=sharpe"))
    # unknown figures last, newest first among them (none was created after running)
    assert by_sharpe == [runs["high"], runs["mid"], runs["low"], runs["none"], runs["running"]]
    ascending = _ids(_list(client, trader, "&sort=sharpe&order=asc"))
    assert ascending == [runs["low"], runs["mid"], runs["high"], runs["none"], runs["running"]]
    # a tie (total_return 0.3 twice) keeps newest first: the same order on every request
    by_return = _ids(_list(client, trader, "&sort=total_return"))
    assert by_return[:2] == [runs["mid"], runs["low"]]
    assert _ids(_list(client, trader, "&sort=num_trades&order=asc"))[:3] == [
        runs["high"],
        runs["mid"],
        runs["low"],
    ]


def test_sorted_pages_neither_repeat_nor_skip_a_run(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    made = {str(seed.run(metrics={"sharpe": 1.0})) for _ in range(7)}  # all tied
    seen: list[str] = []
    for page in (1, 2, 3):
        response = client.get(
            f"/v1/runs?sort=sharpe&per_page=3&page={page}", headers=trader.headers
        )
        seen += _ids(response.json()["items"])
    assert sorted(seen) == sorted(made)


def test_the_oldest_first_and_finished_at_sorts(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    early = seed.run(finished_at=datetime(2021, 1, 1, tzinfo=UTC))
    late = seed.run(finished_at=datetime(2020, 1, 1, tzinfo=UTC))
    queued = seed.run(status=RunStatus.QUEUED)
    assert _ids(_list(client, trader, "&sort=created_at&order=asc")) == [
        str(early),
        str(late),
        str(queued),
    ]
    assert _ids(_list(client, trader, "&sort=finished_at")) == [str(early), str(late), str(queued)]


def test_label_and_star_are_set_filtered_listed_and_audited(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    first, second = seed.run(), seed.run()
    other = seed.run("buy_and_hold")
    response = _patch(client, trader, first, {"label": "  Fast 10_after fees  "})
    assert response.status_code == 200, response.text
    assert response.json()["label"] == "Fast 10_after fees"
    assert _ids(_list(client, trader, "&label=fast%2010")) == [str(first)]
    assert _list(client, trader, "&label=10_a")[0]["label"] == "Fast 10_after fees"
    assert _list(client, trader, "&label=0%25") == []  # % is a character, not a wildcard

    assert _patch(client, trader, first, {"is_reference": True}).json()["is_reference"] is True
    assert _patch(client, trader, other, {"is_reference": True}).status_code == 200
    # starring the second unstars the first: one reference per strategy
    assert _patch(client, trader, second, {"is_reference": True}).status_code == 200
    starred = _list(client, trader, "&is_reference=true")
    assert sorted(_ids(starred)) == sorted([str(second), str(other)])
    assert _ids(_list(client, trader, "&is_reference=true&strategy=momentum_v1")) == [str(second)]
    assert str(first) in _ids(_list(client, trader, "&is_reference=false"))
    assert _patch(client, trader, second, {"is_reference": False}).json()["is_reference"] is False
    assert _patch(client, trader, first, {"label": None}).json()["label"] is None

    entries = seed.rows(
        select(AuditEntry.target_id, AuditEntry.detail)
        .where(AuditEntry.action == "run.update")
        .order_by(AuditEntry.id)
    )
    assert len(entries) == 6
    assert entries[3] == (
        str(second),
        {
            "username": "trader",
            "strategy_id": "momentum_v1",
            "before": {"label": None, "is_reference": False},
            "after": {"label": None, "is_reference": True},
            "unstarred": str(first),
        },
    )


def test_a_patch_that_changes_nothing_writes_no_audit_entry(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    run = seed.run()
    assert _patch(client, trader, run, {}).status_code == 200
    assert _patch(client, trader, run, {"is_reference": False}).status_code == 200
    assert seed.count("audit_log") == 0


@pytest.mark.parametrize(
    ("status", "run_type"),
    [
        (RunStatus.RUNNING, RunType.BACKTEST),
        (RunStatus.FAILED, RunType.BACKTEST),
        (RunStatus.COMPLETED, RunType.PAPER),
    ],
)
def test_only_a_completed_backtest_or_walk_forward_can_be_starred(
    client: TestClient, seed: Seeder, trader: Person, status: RunStatus, run_type: RunType
) -> None:
    run = seed.run(status=status, run_type=run_type)
    assert_error(_patch(client, trader, run, {"is_reference": True}), 409, "conflict")
    assert seed.rows(select(Run.is_reference).where(Run.id == run)) == [(False,)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": ""}, "body.label"),
        ({"label": "   "}, "body.label"),
        ({"label": "x" * 121}, "body.label"),
        ({"label": "tab\there"}, "body.label"),
        ({"is_reference": "maybe"}, "body.is_reference"),
        ({"colour": "red"}, "body.colour"),
    ],
)
def test_a_bad_patch_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, seed: Seeder, trader: Person, body: dict[str, Any], field: str
) -> None:
    run = seed.run()
    assert_error(_patch(client, trader, run, body), 422, "validation_error", field=field)
    assert seed.rows(select(Run.label).where(Run.id == run)) == [(None,)]


def test_viewers_cannot_label_or_star_and_unknown_runs_are_404(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run = seed.run()
    assert_error(_patch(client, viewer, run, {"label": "mine"}), 403, "forbidden")
    assert_error(_patch(client, trader, uuid.uuid4(), {"label": "x"}), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=profit", "query.sort"),
        ("order=up", "query.order"),
        ("is_reference=perhaps", "query.is_reference"),
        ("label=", "query.label"),
        (f"label={'x' * 121}", "query.label"),
    ],
)
def test_bad_list_parameters_are_a_422_naming_them(
    client: TestClient, trader: Person, query: str, field: str
) -> None:
    response = client.get(f"/v1/runs?{query}", headers=trader.headers)
    assert_error(response, 422, "validation_error", field=field)
