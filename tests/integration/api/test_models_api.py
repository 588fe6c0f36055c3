"""Training as a queued run (POST /v1/runs type train) and the model registry over HTTP:
/v1/models, a model's lineage and validation, and admin-only, gated, audited stage changes
(ADR 0053)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_api.settings import ApiSettings
from quant_backtest.worker import RunExecutor
from quant_db.schema import AuditEntry, ModelStage, RegisteredModel
from quant_db.schema.identity import Role
from quant_db.settings import get_settings
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder

TINY: dict[str, Any] = {
    "name": "tiny_direction",
    "inputs": {
        "synthetic": {"n_symbols": 4, "n_dates": 200, "n_features": 5, "horizon": 5, "signal": 0.6}
    },
    "label": {"kind": "synthetic", "horizon": 5},
    "model": {"params": {"n_estimators": 20, "max_depth": 3}, "candidates": [{"max_depth": 2}]},
    "validation": {
        "walk_forward": {"n_splits": 3, "embargo_days": 2},
        "cpcv": {"n_groups": 4, "n_test_groups": 2, "embargo_days": 2},
    },
}
# long enough to be cancelled while it runs: many candidates, each a walk-forward
SLOW: dict[str, Any] = {
    **TINY,
    "name": "slow_direction",
    "inputs": {"synthetic": {"n_symbols": 30, "n_dates": 1500, "n_features": 20}},
    "model": {
        "params": {"n_estimators": 200, "max_depth": 5},
        "candidates": [{"max_depth": d} for d in (2, 3, 4, 6, 7, 8)],
    },
}
TRAINING = Path(__file__).resolve().parents[3] / "configs" / "training"


@pytest.fixture(autouse=True)
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker stores artifacts in this test's own folder."""
    monkeypatch.setenv("QUANT_STATE_DIR", str(tmp_path / "worker-state"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> ApiSettings:
    # a lax gate, so a small synthetic model can be promoted; the gate's refusals are below
    return make_settings(
        tmp_path,
        training_dir=TRAINING,
        model_gate_min_oos_sharpe=-100,
        model_gate_min_dsr=0,
        model_gate_min_paper_days=0,
    )


def _queue(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> uuid.UUID:
    answer = client.post("/v1/runs", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/v1/runs/{answer.json()['id']}"
    return uuid.UUID(answer.json()["id"])


def _execute(database_url: str, run_id: uuid.UUID) -> str:
    return asyncio.run(RunExecutor(database_url).execute(run_id))


def test_a_train_run_registers_its_model_naming_the_run_with_lineage_folds_and_importances(
    client: TestClient, seed: Seeder, database_url: str
) -> None:
    trader = seed.user("ana", Role.TRADER)
    run_id = _queue(client, trader.headers, {"type": "train", "training": {"inline": TINY}})
    queued = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
    assert (queued["type"], queued["status"], queued["strategy_id"]) == ("train", "queued", None)
    assert queued["config"]["name"] == "tiny_direction"
    listed = client.get("/v1/runs?type=train", headers=trader.headers).json()
    assert [(r["id"], r["strategy_id"]) for r in listed["items"]] == [(str(run_id), None)]

    assert _execute(database_url, run_id) == "completed"
    run = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
    assert (run["status"], run["progress"]) == ("completed", 1.0)
    assert run["processed"] == run["total"] > 3

    listing = client.get(f"/v1/models?run_id={run_id}", headers=trader.headers).json()
    assert listing["total"] == 1
    [item] = listing["items"]
    model_id = item["id"]
    assert run["message"] == f"registered tiny_direction v1 (#{model_id}) as a candidate"
    assert (item["stage"], item["trained_by_run_id"]) == ("candidate", str(run_id))
    assert item["scores"]["oos_sharpe"] is not None

    detail = client.get(f"/v1/models/{model_id}", headers=trader.headers).json()
    assert detail["trained_via"] == f"run {run_id}"
    assert detail["feature_set_version"] == "synthetic"
    assert detail["label_definition"] == {"kind": "synthetic", "horizon": 5}
    assert len(detail["data_fingerprint"]) == 64
    assert len(detail["artifact_sha256"]) == 64
    assert detail["train_start"] < detail["train_end"]
    assert len(detail["walk_forward_folds"]) == 3
    assert all(f["n_test"] > 0 and f["purged"] >= 0 for f in detail["walk_forward_folds"])
    assert detail["cpcv"]["summary"]["paths"] == len(detail["cpcv"]["path_sharpes"]) > 1
    assert len(detail["candidate_sharpes"]) == 2
    assert detail["scores"]["n_trials"] == 2
    weights = [i["importance"] for i in detail["importances"]]
    assert len(weights) == 5
    assert weights == sorted(weights, reverse=True)
    assert [(c["from_stage"], c["to_stage"], c["reason"]) for c in detail["stage_history"]] == [
        (None, "candidate", "trained")
    ]
    artifacts = Path(get_settings().quant_state_dir) / "artifacts"
    assert [p.name for p in artifacts.rglob("*") if p.is_file()] == [detail["artifact_sha256"]]


def test_a_train_run_may_name_a_training_config_file(client: TestClient, seed: Seeder) -> None:
    trader = seed.user("ana", Role.TRADER)
    run_id = _queue(
        client, trader.headers, {"type": "train", "training": {"config": "synthetic_direction"}}
    )
    run = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
    assert run["config"]["name"] == "synthetic_direction"
    assert run["config"]["source"].endswith("configs/training/synthetic_direction.yaml")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"type": "train"}, "body.training", "a train run needs training"),
        (
            {"type": "train", "strategy_id": "momentum_v1", "training": {"inline": TINY}},
            "body.strategy_id",
            "a train run takes no strategy_id",
        ),
        (
            {"type": "train", "training": {"config": "nope"}},
            "body.training.config",
            "no training config 'nope' (known: synthetic_direction.yaml, xgb_direction_sp500.yaml)",
        ),
        (
            {"type": "train", "training": {"config": "../risk/default"}},
            "body.training.config",
            "should match pattern",
        ),
        (
            {"type": "train", "training": {"config": "synthetic_direction", "inline": TINY}},
            "body.training",
            "give exactly one of config",
        ),
        (
            {
                "type": "train",
                "training": {
                    "inline": {**TINY, "model": {"params": {"depth": 2}}},
                },
            },
            "body.training.inline.model.params.depth",
            "unknown field",
        ),
        (
            {"type": "train", "training": {"inline": {**TINY, "inputs": {"table": "/etc/x.pq"}}}},
            "body.training.inline.inputs.table",
            "relative path without `..`",
        ),
        (
            {"type": "train", "training": {"inline": {**TINY, "inputs": {"table": "none.pq"}}}},
            "body.training.inline.inputs.table",
            "'none.pq' does not exist",
        ),
        (
            {"strategy_id": "momentum_v1", "training": {"config": "synthetic_direction"}},
            "body.training",
            "training settings need type train",
        ),
        ({"type": "backtest"}, "body.strategy_id", "a backtest run needs a strategy_id"),
    ],
)
def test_a_bad_train_request_is_422_naming_the_field_and_queues_nothing(
    client: TestClient, seed: Seeder, body: dict[str, Any], field: str, words: str
) -> None:
    trader = seed.user("ana", Role.TRADER)
    error = assert_error(
        client.post("/v1/runs", json=body, headers=trader.headers), 422, "validation_error"
    )
    assert error["field"] == field, error
    assert words in error["message"], error
    assert seed.count("runs") == 0


def test_a_viewer_cannot_queue_a_train_run(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("val", Role.VIEWER)
    answer = client.post(
        "/v1/runs", json={"type": "train", "training": {"inline": TINY}}, headers=viewer.headers
    )
    assert_error(answer, 403, "forbidden")
    assert seed.count("runs") == 0


def test_a_queued_train_run_is_cancelled_at_once_and_never_trains(
    client: TestClient, seed: Seeder, database_url: str
) -> None:
    trader = seed.user("ana", Role.TRADER)
    run_id = _queue(client, trader.headers, {"type": "train", "training": {"inline": TINY}})
    answer = client.post(f"/v1/runs/{run_id}/cancel", headers=trader.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert _execute(database_url, run_id) == "skipped"
    assert seed.count("models") == 0


def test_a_running_train_run_stops_at_its_next_step_when_cancelled_and_registers_nothing(
    client: TestClient, seed: Seeder, database_url: str
) -> None:
    trader = seed.user("ana", Role.TRADER)
    run_id = _queue(client, trader.headers, {"type": "train", "training": {"inline": SLOW}})
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(_execute(database_url, run_id)))
    worker.start()
    deadline = time.monotonic() + 120
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
        if run["status"] == "running" and run["processed"] >= 1:
            break
        time.sleep(0.05)
    assert run["status"] == "running", run
    assert 0 < run["progress"] < 1, run
    cancelled = client.post(f"/v1/runs/{run_id}/cancel", headers=trader.headers)
    assert cancelled.json()["cancel_requested"] is True
    worker.join(180)
    assert outcome == ["cancelled"]
    run = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
    assert (run["status"], run["message"]) == ("cancelled", "cancelled while running")
    assert seed.count("models") == 0


def test_models_are_listed_newest_first_and_filtered_by_stage_and_name(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("val", Role.VIEWER)
    first = seed.model("alpha")
    second = seed.model("alpha", stage=ModelStage.PAPER)
    third = seed.model("beta")
    everything = client.get("/v1/models?per_page=2", headers=viewer.headers).json()
    assert [m["id"] for m in everything["items"]] == [third, second]
    assert everything["total"] == 3
    paper = client.get("/v1/models?stage=paper", headers=viewer.headers).json()
    assert [(m["id"], m["version"]) for m in paper["items"]] == [(second, 2)]
    alpha = client.get("/v1/models?name=alpha", headers=viewer.headers).json()
    assert [m["id"] for m in alpha["items"]] == [second, first]
    assert_error(
        client.get("/v1/models?stage=bogus", headers=viewer.headers),
        422,
        "validation_error",
        "query.stage",
    )
    assert_error(client.get("/v1/models/999999", headers=viewer.headers), 404, "not_found")


def _audit(seed: Seeder) -> list[tuple[str, str]]:
    rows = seed.rows(select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id))
    return [(action, detail.get("via", "")) for action, detail in rows]


def test_an_admin_promotes_and_demotes_with_a_reason_and_each_decision_is_audited(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("root", Role.ADMIN)
    model = seed.model()
    up = client.post(f"/v1/models/{model}/promote", json={"reason": "ok"}, headers=admin.headers)
    assert up.status_code == 200, up.text
    assert (up.json()["from_stage"], up.json()["stage"]) == ("candidate", "paper")
    assert up.json()["change"]["decided_by"] == "root"
    down = client.post(
        f"/v1/models/{model}/demote", json={"reason": "drift"}, headers=admin.headers
    )
    assert down.status_code == 200, down.text
    assert down.json()["stage"] == "candidate"
    history = client.get(f"/v1/models/{model}", headers=admin.headers).json()["stage_history"]
    assert [(c["to_stage"], c["reason"], c["decided_by"]) for c in history] == [
        ("candidate", "trained", None),
        ("paper", "ok", "root"),
        ("candidate", "drift", "root"),
    ]
    assert history[1]["gate"]["checks"][0]["name"] == "oos_sharpe"
    assert _audit(seed) == [
        ("model.register", "seed"),
        ("model.promote", "api"),
        ("model.demote", "api"),
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Field required"),
        ({"reason": "   "}, "say why: the reason is recorded with the decision and audited"),
        ({"why": "x"}, "Field required"),
    ],
)
def test_a_stage_change_without_a_reason_is_422_and_changes_nothing(
    client: TestClient, seed: Seeder, body: dict[str, Any], words: str
) -> None:
    admin = seed.user("root", Role.ADMIN)
    model = seed.model()
    answer = client.post(f"/v1/models/{model}/promote", json=body, headers=admin.headers)
    error = assert_error(answer, 422, "validation_error", "body.reason")
    assert words in error["message"]
    assert seed.rows(select(RegisteredModel.stage))[0][0] == "candidate"
    assert [action for action, _ in _audit(seed)] == ["model.register"]


def test_only_an_admin_may_change_a_stage(client: TestClient, seed: Seeder) -> None:
    model = seed.model()
    for role in (Role.VIEWER, Role.TRADER):
        person = seed.user(f"{role.value}-person", role)
        for verb in ("promote", "demote"):
            answer = client.post(
                f"/v1/models/{model}/{verb}", json={"reason": "x"}, headers=person.headers
            )
            assert_error(answer, 403, "forbidden")
    assert seed.rows(select(RegisteredModel.stage))[0][0] == "candidate"
    assert [action for action, _ in _audit(seed)] == ["model.register"]


def test_a_gate_refusal_is_409_naming_each_failed_check_changes_nothing_and_is_audited(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    from quant_api.app import create_app  # noqa: PLC0415

    strict = make_settings(tmp_path)  # the default gate: OOS Sharpe 0.5, DSR 0.95, 20 days
    with TestClient(create_app(strict, database_url=database_url, redis_url=redis_url)) as client:
        seed = Seeder(client)
        admin = seed.user("root", Role.ADMIN)
        weak = seed.model("weak", oos_sharpe=0.2, dsr=0.5)
        answer = client.post(
            f"/v1/models/{weak}/promote", json={"reason": "try"}, headers=admin.headers
        )
        error = assert_error(answer, 409, "conflict")
        assert error["message"] == (
            f"promotion refused by the gate: weak v1 (#{weak}) stays candidate: "
            "oos_sharpe 0.200 < 0.5; dsr 0.500 < 0.95"
        )
        assert seed.rows(select(RegisteredModel.stage))[0][0] == "candidate"
        assert [a for a, _ in _audit(seed)] == ["model.register", "model.promote_refused"]
        # a candidate has nowhere lower to go
        lowest = client.post(
            f"/v1/models/{weak}/demote", json={"reason": "x"}, headers=admin.headers
        )
        error = assert_error(lowest, 409, "conflict")
        assert error["message"] == "a candidate model cannot be demoted below candidate"
