"""Dependencies with typed aliases: the session, the signed-in user, role gates, loaders.

Every loader ("load or 404") depends on the user first, so anonymous callers get 401 before
anything about the resource is revealed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.auth import TokenKind, has_role, unauthorized
from quant_api.errors import ApiError, not_found, request_id_of
from quant_api.resources import AppResources
from quant_api.schemas.v1.common import StrategyId
from quant_db.schema import Alert, Position, Run, Strategy, User
from quant_db.schema.identity import Role


def get_resources(request: Request) -> AppResources:
    resources: AppResources = request.app.state.resources
    return resources


ResourcesDep = Annotated[AppResources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
RequestId = Annotated[str, Depends(request_id_of)]

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from POST /v1/auth/login (or /v1/auth/refresh)",
)


async def get_current_user(
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise unauthorized("sign in first: send `Authorization: Bearer <access token>`")
    user_id = resources.tokens.user_id(credentials.credentials, TokenKind.ACCESS)
    user = await session.get(User, user_id)
    if user is None:
        raise unauthorized("the token's user no longer exists", "invalid_token")
    if not user.is_active:
        raise unauthorized(f"user {user.username!r} is deactivated", "inactive_user")
    # read by the rate-limit key and the request log
    request.state.user_id = user.id
    request.state.username = user.username
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(minimum: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets `minimum` and every higher role through, 403 for the rest."""

    async def check_role(user: CurrentUser) -> User:
        if not has_role(user, minimum):
            raise ApiError(
                403,
                f"this needs the {minimum.value} role or higher; {user.username!r} is a "
                f"{user.role.value}",
            )
        return user

    return check_role


TraderUser = Annotated[User, Depends(require_role(Role.TRADER))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]


async def load_strategy(
    strategy_id: Annotated[StrategyId, Path(description="strategy id, as in its YAML")],
    session: SessionDep,
    _user: CurrentUser,
) -> Strategy:
    strategy = await session.get(Strategy, strategy_id)
    if strategy is None:
        raise not_found("strategy", repr(strategy_id))
    return strategy


async def load_run(run_id: uuid.UUID, session: SessionDep, _user: CurrentUser) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise not_found("run", run_id)
    return run


async def load_position(
    position_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: SessionDep, _user: CurrentUser
) -> Position:
    position = await session.get(Position, position_id)
    if position is None:
        raise not_found("position", position_id)
    return position


async def load_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: SessionDep, _user: CurrentUser
) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise not_found("alert", alert_id)
    return alert


StrategyDep = Annotated[Strategy, Depends(load_strategy)]
RunDep = Annotated[Run, Depends(load_run)]
PositionDep = Annotated[Position, Depends(load_position)]
AlertDep = Annotated[Alert, Depends(load_alert)]


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def get_pagination(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
) -> Pagination:
    return Pagination(page=page, per_page=per_page)


PageParams = Annotated[Pagination, Depends(get_pagination)]
