"""Strategies: the YAML sync at startup, listing with headline runs, audited admin edits."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_api.app import create_app
from quant_db.schema import AuditEntry, Strategy
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode, RunStatus, RunType
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import STRATEGIES, make_settings
from tests.integration.api.seed import Seeder


def test_startup_syncs_every_yaml_strategy(client: TestClient, seed: Seeder) -> None:
    rows = seed.rows(select(Strategy.id, Strategy.status, Strategy.mode).order_by(Strategy.id))
    assert rows == [
        ("buy_and_hold", "active", Mode.BACKTEST),
        ("mean_reversion_v1", "active", Mode.BACKTEST),
        ("momentum_v1", "active", Mode.BACKTEST),
        ("xgb_direction_v1", "active", Mode.BACKTEST),
        ("xgb_direction_wf_v1", "active", Mode.BACKTEST),
        ("xsec_momentum_v1", "active", Mode.BACKTEST),
    ]


def test_startup_skips_bad_files_keeps_operated_state_and_follows_unedited_files(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    shutil.copy(STRATEGIES / "momentum_v1.yaml", folder)
    shutil.copy(STRATEGIES / "buy_and_hold.yaml", folder)
    (folder / "broken.yaml").write_text("id: broken\nclass: [unclosed\n")
    (folder / "bad_params.yaml").write_text(
        "id: bad_params\nclass: quant_strategy.builtin.momentum:SmaCrossover\n"
        "universe: [SP500]\nparams: {fast: 0}\n"
    )
    (folder / "no_class.yaml").write_text(
        "id: no_class\nclass: nowhere.module:Nothing\nuniverse: [SP500]\n"
    )
    settings = make_settings(tmp_path, strategies_dir=folder)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        assert [r[0] for r in seed.rows(select(Strategy.id).order_by(Strategy.id))] == [
            "buy_and_hold",
            "momentum_v1",
        ]
        admin = seed.user("admin", Role.ADMIN)
        client.post(
            "/v1/controls/mode-transition",
            json={"strategy_id": "buy_and_hold", "mode": "PAPER", "reason": "go paper"},
            headers=admin.headers,
        ).raise_for_status()
        client.patch(
            "/v1/strategies/momentum_v1", json={"params": {"fast": 15}}, headers=admin.headers
        ).raise_for_status()

    (folder / "buy_and_hold.yaml").write_text(
        (folder / "buy_and_hold.yaml").read_text().replace("seed: 0", "seed: 7")
    )
    (folder / "momentum_v1.yaml").write_text(
        (folder / "momentum_v1.yaml").read_text().replace("slow: 50", "slow: 60")
    )
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        rows = {r.id: r for r in (row[0] for row in Seeder(client).rows(select(Strategy)))}
    assert rows["buy_and_hold"].mode is Mode.PAPER  # operated state kept
    assert rows["buy_and_hold"].config["seed"] == 7  # an unedited file is followed
    assert rows["momentum_v1"].config["params"] == {"fast": 15, "slow": 50}  # the API edit wins


def test_without_a_reference_the_headline_is_the_latest_completed_run_labelled_so(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    seed.run("momentum_v1", metrics={"sharpe": 0.5})
    latest = seed.run("momentum_v1", metrics={"sharpe": 1.5})
    seed.run("momentum_v1", status=RunStatus.FAILED)
    listing = {s["id"]: s for s in client.get("/v1/strategies", headers=viewer.headers).json()}
    momentum = listing["momentum_v1"]
    assert (momentum["mode"], momentum["status"], momentum["universe"]) == (
        "BACKTEST",
        "active",
        ["SP500"],
    )
    assert momentum["headline_run"]["id"] == str(latest)
    assert momentum["headline_run"]["basis"] == "latest_completed"
    assert momentum["headline_run"]["metrics"] == {"sharpe": 1.5}
    assert listing["buy_and_hold"]["headline_run"] is None
    assert (listing["buy_and_hold"]["is_benchmark"], momentum["is_benchmark"]) == (True, False)
    detail = client.get("/v1/strategies/momentum_v1", headers=viewer.headers).json()
    assert detail["config"]["params"] == {"fast": 20, "slow": 50}
    assert detail["headline_run"]["metrics"] == {"sharpe": 1.5}


def test_a_starred_reference_run_stays_the_headline_when_a_later_test_completes(
    client: TestClient, seed: Seeder
) -> None:
    trader = seed.user("trader", Role.TRADER)
    reference = seed.run(
        "momentum_v1",
        metrics={"sharpe": 0.8},
        config={"params": {"fast": 20, "slow": 50}},
        backtest_config={"initial_capital": "100000"},
    )
    client.patch(
        f"/v1/runs/{reference}",
        json={"is_reference": True, "label": "house params"},
        headers=trader.headers,
    ).raise_for_status()
    seed.run("momentum_v1", metrics={"sharpe": 3.1}, config={"params": {"fast": 2, "slow": 3}})
    listing = {s["id"]: s for s in client.get("/v1/strategies", headers=trader.headers).json()}
    headline = listing["momentum_v1"]["headline_run"]
    assert (headline["id"], headline["basis"], headline["label"]) == (
        str(reference),
        "reference",
        "house params",
    )
    assert (headline["metrics"], headline["params"], headline["capital"]) == (
        {"sharpe": 0.8},
        {"fast": 20, "slow": 50},
        100000,
    )
    detail = client.get("/v1/strategies/momentum_v1", headers=trader.headers).json()
    assert detail["headline_run"]["id"] == str(reference)
    # unstarred: back to the latest completed run, and labelled so
    client.patch(
        f"/v1/runs/{reference}", json={"is_reference": False}, headers=trader.headers
    ).raise_for_status()
    detail = client.get("/v1/strategies/momentum_v1", headers=trader.headers).json()
    assert detail["headline_run"]["basis"] == "latest_completed"
    assert detail["headline_run"]["metrics"] == {"sharpe": 3.1}


def test_paper_and_live_runs_are_never_a_strategys_research_headline(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    backtest = seed.run("momentum_v1", metrics={"sharpe": 1.0})
    seed.run("momentum_v1", run_type=RunType.PAPER, metrics={"sharpe": 5.0})
    detail = client.get("/v1/strategies/momentum_v1", headers=viewer.headers).json()
    assert detail["headline_run"]["id"] == str(backtest)


def test_a_walk_forward_latest_run_is_listed_with_its_headline_metrics_only(
    client: TestClient, seed: Seeder
) -> None:
    """The listing is polled; a walk-forward's per-window block (tens of kB) stays at
    /v1/runs/{id} and /windows, and only the run's own figures travel with each strategy."""
    viewer = seed.user("viewer", Role.VIEWER)
    windows = {"windows": [{"index": i, "oos_metrics": {"sharpe": 0.1}} for i in range(40)]}
    run = seed.run(
        "momentum_v1",
        run_type=RunType.WALK_FORWARD,
        metrics={"sharpe": 0.9, "total_return": 0.12, "walk_forward": windows},
    )
    listing = {s["id"]: s for s in client.get("/v1/strategies", headers=viewer.headers).json()}
    headline = listing["momentum_v1"]["headline_run"]
    assert headline["metrics"] == {"sharpe": 0.9, "total_return": 0.12}
    detail = client.get("/v1/strategies/momentum_v1", headers=viewer.headers).json()
    assert detail["headline_run"]["metrics"] == {"sharpe": 0.9, "total_return": 0.12}
    whole = client.get(f"/v1/runs/{run}", headers=viewer.headers).json()
    assert whole["metrics"]["walk_forward"] == windows


def test_an_admin_edit_is_validated_by_the_class_and_audited(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    response = client.patch(
        "/v1/strategies/momentum_v1",
        json={"params": {"fast": 10}, "status": "paused", "risk": {"allow_short": True}},
        headers={**admin.headers, "X-Request-ID": "edit-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "paused"
    assert body["config"]["params"] == {"fast": 10, "slow": 50}
    assert body["config"]["risk"]["allow_short"] is True
    [(entry,)] = seed.rows(select(AuditEntry))
    assert (entry.action, entry.target_id, entry.user_id, entry.request_id) == (
        "strategy.update",
        "momentum_v1",
        admin.id,
        "edit-1",
    )
    assert entry.detail["before"]["params"] == {"fast": 20, "slow": 50}
    assert entry.detail["after"]["params"] == {"fast": 10, "slow": 50}
    assert (entry.detail["before"]["status"], entry.detail["after"]["status"]) == (
        "active",
        "paused",
    )
    assert entry.detail["username"] == "admin"


def test_a_bad_edit_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    cases = [
        ({"params": {"fast": 0}}, "body.params.fast"),
        ({"params": {"fast": "quick"}}, "body.params.fast"),
        ({"params": {"warp": 9}}, "body.params.warp"),
        ({"risk": {"max_position_pct": 50}}, "body.risk.max_position_pct"),
        ({"status": "sleeping"}, "body.status"),
    ]
    for body, field in cases:
        response = client.patch("/v1/strategies/momentum_v1", json=body, headers=admin.headers)
        assert_error(response, 422, "validation_error", field=field)
    [(stored,)] = seed.rows(select(Strategy.config).where(Strategy.id == "momentum_v1"))
    assert stored["params"] == {"fast": 20, "slow": 50}
    assert seed.count("audit_log") == 0


def test_only_admins_edit_strategies(client: TestClient, seed: Seeder) -> None:
    trader = seed.user("trader", Role.TRADER)
    response = client.patch(
        "/v1/strategies/momentum_v1", json={"status": "paused"}, headers=trader.headers
    )
    assert_error(response, 403, "forbidden")


def test_startup_migrates_an_empty_database(
    tmp_path: Path, empty_database_url: str, redis_url: str
) -> None:
    with TestClient(create_app(make_settings(tmp_path), empty_database_url, redis_url)) as client:
        assert Seeder(client).count("strategies") == 6
        assert client.get("/v1/health").json()["database"]["status"] == "ok"


def test_the_detail_carries_the_params_json_schema_the_class_validates_with(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    detail = client.get("/v1/strategies/momentum_v1", headers=admin.headers).json()
    schema = detail["params_schema"]
    assert (schema["type"], schema["additionalProperties"]) == ("object", False)
    fast, slow = schema["properties"]["fast"], schema["properties"]["slow"]
    assert (fast["type"], fast["default"], fast["minimum"], fast["maximum"]) == (
        "integer",
        20,
        1,
        1000,
    )
    assert (slow["default"], slow["minimum"]) == (50, 2)
    assert fast["description"]
    # the bounds it shows are the ones an edit is held to
    for value, status in ((fast["maximum"], 200), (fast["maximum"] + 1, 422)):
        response = client.patch(
            "/v1/strategies/momentum_v1",
            json={"params": {"fast": value, "slow": slow["maximum"]}},
            headers=admin.headers,
        )
        assert response.status_code == status, response.text
    other = client.get("/v1/strategies/xsec_momentum_v1", headers=admin.headers).json()
    assert set(other["params_schema"]["properties"]) == {
        "lookback",
        "skip",
        "top_n",
        "rebalance_every",
    }
    assert "params_schema" not in client.get("/v1/strategies", headers=admin.headers).json()[0]
