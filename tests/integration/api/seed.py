"""Rows for API tests, written through the running app's own engine (on its event loop)."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.api_keys import Actor, create_key
from quant_api.refresh_tokens import start_family
from quant_api.resources import AppResources
from quant_api.schemas.v1.auth import TokenPair
from quant_api.users import create_user
from quant_db.schema import (
    Alert,
    EquityPoint,
    ModelStage,
    Order,
    Position,
    Run,
    RunReport,
    Trade,
    User,
)
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_models import registry
from quant_models.artifacts import StoredArtifact
from quant_models.registry import GatePolicy

T = TypeVar("T")
PASSWORD = "correct horse battery"
START = datetime(2024, 1, 2, 21, tzinfo=UTC)


def days(n: int) -> list[datetime]:
    return [START + timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    role: Role
    headers: dict[str, str]


class Seeder:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.resources: AppResources = client.app.state.resources  # type: ignore[attr-defined]

    def call(self, body: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def in_session() -> T:
            async with self.resources.sessions() as session, session.begin():
                return await body(session)

        assert self.client.portal is not None
        return self.client.portal.call(in_session)

    def user(
        self, username: str, role: Role, *, active: bool = True, signed_in: bool = True
    ) -> Person:
        """A user and, unless `signed_in` is False, the access token of a sign-in of theirs
        (which adds a refresh token family: tests that count those rows pass False)."""

        async def body(session: AsyncSession) -> User:
            user = await create_user(
                session, self.resources.passwords, username=username, password=PASSWORD, role=role
            )
            user.is_active = active
            return user

        user = self.call(body)
        if not signed_in:
            return Person(user.id, username, role, {})
        # an access token names its sign-in (refresh token family), which must be live for any
        # route to accept it (ADR 0014)
        token = self.sign_in(user.id).access_token
        return Person(user.id, username, role, {"Authorization": f"Bearer {token}"})

    def sign_in(self, user_id: int) -> TokenPair:
        """A recorded pair starting a new family, as a sign-in gets (any user, active or not)."""

        async def body() -> TokenPair:
            async with self.resources.sessions() as session:
                user = await session.get(User, user_id)
                assert user is not None
                return await start_family(session, self.resources.tokens, user)

        assert self.client.portal is not None
        return self.client.portal.call(body)

    def api_key(
        self, user_id: int, role: Role, *, expires_at: datetime | None = None
    ) -> tuple[int, str]:
        """An API key of this user, made as POST /v1/api-keys makes one: its id and the key."""

        async def body(session: AsyncSession) -> tuple[int, str]:
            owner = await session.get(User, user_id)
            assert owner is not None
            key, secret = await create_key(
                session,
                owner,
                name="seeded",
                role=role,
                expires_at=expires_at,
                actor=Actor(owner, "seed"),
            )
            return key.id, secret

        return self.call(body)

    def people(self) -> dict[str, Person]:
        return {r.value: self.user(f"{r.value}-user", r) for r in Role}

    def run(
        self,
        strategy_id: str = "momentum_v1",
        *,
        status: RunStatus = RunStatus.COMPLETED,
        run_type: RunType = RunType.BACKTEST,
        equity: Sequence[tuple[datetime, float]] = (),
        trades: Sequence[tuple[datetime, float]] = (),
        report: str | None = None,
        metrics: dict[str, Any] | None = None,
        finished_at: datetime | None = None,
        config: dict[str, Any] | None = None,
        backtest_config: dict[str, Any] | None = None,
        repro: dict[str, Any] | None = None,
        created_by: int | None = None,
    ) -> uuid.UUID:
        """A run with equity points, closed trades (exit time, pnl) and an optional report."""

        async def body(session: AsyncSession) -> uuid.UUID:
            run = Run(
                strategy_id=strategy_id,
                type=run_type,
                status=status,
                config={"id": strategy_id, **(config or {})},
                backtest_config=backtest_config or {},
                repro=repro or {},
                metrics=metrics or {},
                created_by=created_by,
                finished_at=finished_at
                or (datetime.now(UTC) if status is RunStatus.COMPLETED else None),
            )
            session.add(run)
            await session.flush()
            for ts, value in equity:
                v = Decimal(str(value))
                session.add(
                    EquityPoint(
                        run_id=run.id, ts=ts, equity=v, cash=v, positions_value=0, gross_exposure=0
                    )
                )
            for k, (exit_time, pnl) in enumerate(trades):
                session.add(
                    Trade(
                        run_id=run.id,
                        trade_id=f"t{k}",
                        symbol="SP500",
                        direction="long",
                        quantity=Decimal(1),
                        entry_time=exit_time - timedelta(days=1),
                        entry_price=Decimal(100),
                        exit_time=exit_time,
                        exit_price=Decimal(100) + Decimal(str(pnl)),
                        gross_pnl=Decimal(str(pnl)),
                        commission=Decimal(0),
                        pnl=Decimal(str(pnl)),
                        bars_held=1,
                    )
                )
            if report is not None:
                session.add(RunReport(run_id=run.id, html_gzip=gzip.compress(report.encode())))
            return run.id

        return self.call(body)

    def model(
        self,
        name: str = "seeded_direction",
        *,
        oos_sharpe: float = 1.2,
        dsr: float = 0.97,
        stage: ModelStage = ModelStage.CANDIDATE,
    ) -> int:
        """A model registered through the registry (its artifact named, not stored), moved up
        to `stage` by an admin through an open gate."""

        async def body(session: AsyncSession) -> int:
            model = await registry.register(
                session,
                name=name,
                kind="xgboost",
                feature_set_version="synthetic",
                label_definition={"kind": "synthetic", "horizon": 5},
                train_window=(datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
                data_fingerprint="f" * 64,
                params={"max_depth": 3},
                validation={"oos_sharpe": oos_sharpe, "dsr": dsr, "pbo": 0.1, "n_trials": 2},
                artifact=StoredArtifact(sha256="a" * 64, uri="memory:///seeded", size=1),
                code_version="seeded",
                trained_via="seed",
                request_id="seed",
            )
            if stage is not ModelStage.CANDIDATE:
                decider = await session.scalar(select(User).where(User.role == Role.ADMIN))
                if decider is None:
                    decider = User(username="seed-admin", password_hash="x", role=Role.ADMIN)
                    session.add(decider)
                    await session.flush()
                lax = GatePolicy(min_oos_sharpe=-100, min_dsr=0, min_paper_days=0)
                while ModelStage(model.stage) is not stage:
                    await registry.change_stage(
                        session,
                        ref=str(model.id),
                        promote=True,
                        reason="seeded",
                        user=decider,
                        policy=lax,
                        request_id="seed",
                        via="seed",
                    )
            return model.id

        return self.call(body)

    def alert(self, message: str = "drawdown over 10%", *, acknowledged: bool = False) -> int:
        async def body(session: AsyncSession) -> int:
            alert = Alert(
                severity="warning",
                source="risk",
                message=message,
                strategy_id="momentum_v1",
                acknowledged_at=datetime.now(UTC) if acknowledged else None,
            )
            session.add(alert)
            await session.flush()
            return alert.id

        return self.call(body)

    def position(self, run_id: uuid.UUID, symbol: str = "SP500", quantity: str = "10") -> int:
        async def body(session: AsyncSession) -> int:
            position = Position(
                run_id=run_id,
                strategy_id="momentum_v1",
                symbol=symbol,
                quantity=Decimal(quantity),
                avg_price=Decimal("100"),
                realized_pnl=Decimal("5"),
                last_price=Decimal("110"),
            )
            session.add(position)
            await session.flush()
            return position.id

        return self.call(body)

    def order(
        self,
        run_id: uuid.UUID,
        *,
        symbol: str = "SP500",
        status: str = "filled",
        submitted_at: datetime = START,
        strategy_id: str = "momentum_v1",
    ) -> int:
        async def body(session: AsyncSession) -> int:
            order = Order(
                run_id=run_id,
                strategy_id=strategy_id,
                client_order_id=uuid.uuid4().hex,
                symbol=symbol,
                side="buy",
                type="market",
                time_in_force="day",
                quantity=Decimal(10),
                status=status,
                submitted_at=submitted_at,
                filled_quantity=Decimal(10) if status == "filled" else Decimal(0),
                fill_price=Decimal("100.5") if status == "filled" else None,
            )
            session.add(order)
            await session.flush()
            return order.id

        return self.call(body)

    def count(self, table: str) -> int:
        async def body(session: AsyncSession) -> int:
            return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)

        return self.call(body)

    def rows(self, query: Any) -> list[Any]:
        async def body(session: AsyncSession) -> list[Any]:
            return list((await session.execute(query)).all())

        return self.call(body)
