"""Dependencies with typed aliases: the session, the signed-in user, role gates, loaders, pages.

Every loader ("load or 404") depends on the user first, so anonymous callers get 401 before
anything about the resource is revealed.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Label, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quant_api.api_keys import API_KEY_HEADER, key_user, looks_like_key, note_use
from quant_api.auth import has_role, signed_in_user, unauthorized
from quant_api.errors import ApiError, not_found, request_id_of
from quant_api.resources import AppResources
from quant_api.schemas.v1.common import Page, StrategyId
from quant_db.schema import Alert, Base, Position, Run, Strategy, User
from quant_db.schema.identity import Role

M = TypeVar("M", bound=Base)
S = TypeVar("S", bound=BaseModel)
T = TypeVar("T")


# dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one in a
# worker thread, and that hop costs more than the function
async def get_resources(request: Request) -> AppResources:
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
    description="An access token from POST /v1/auth/login (or /v1/auth/refresh), or an API key",
)


api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key (POST /v1/api-keys or `quant api-keys create`); it may also be "
    "sent as the bearer token",
)


READS = frozenset({"GET", "HEAD"})


def client_address(request: Request) -> str:
    """The address the request-context middleware settled on (see client_address.py)."""
    address: str = request.state.client_address
    return address


async def get_current_user(
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> User:
    """The active user of a live sign-in the access token names, or of an API key: for reads
    possibly as of a few seconds ago.

    Reads take the user from `resources.signed_in` (QUANT_AUTH_CACHE_SECONDS, default 5) when
    the credential was checked that recently; writes always check the token, the users row and
    that the token's sign-in was not ended (ADR 0014), or that the key is live (ADR 0016).
    """
    credential = api_key or (None if credentials is None else credentials.credentials)
    if not credential:
        raise unauthorized(
            "sign in first: send `Authorization: Bearer <access token or API key>` "
            f"(or `{API_KEY_HEADER}: <API key>`)"
        )
    read = request.method in READS
    cached = resources.signed_in.lookup(credential) if read else None
    if cached is None:
        user, key_id, expires = await _check(credential, session, resources)
        if read:
            resources.signed_in.put(credential, user, expires, key_id)
    else:
        user, key_id = cached
    # read by the rate-limit key, the request log and the routes that refuse API keys
    request.state.user_id = user.id
    request.state.username = user.username
    request.state.api_key_id = key_id
    return user


async def _check(
    credential: str, session: AsyncSession, resources: AppResources
) -> tuple[User, int | None, float]:
    """Who the credential acts as, the key's id for an API key, and when it stops working."""
    if not looks_like_key(credential):
        claims = resources.tokens.access_claims(credential)
        return await signed_in_user(session, claims), None, claims.expires
    user, key = await key_user(session, credential)
    async with resources.sessions() as own, own.begin():  # not the request's transaction
        await note_use(own, key.id)
    expires = math.inf if key.expires_at is None else key.expires_at.timestamp()
    return user, key.id, expires


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


async def no_api_key(request: Request, user: CurrentUser) -> User:
    """The signed-in user, refusing a request made with an API key (403): keys cannot make or
    end keys, so a leaked key cannot outlive its own revocation by minting another."""
    if getattr(request.state, "api_key_id", None) is not None:
        raise ApiError(403, "API keys cannot manage API keys: sign in with a password")
    return user


PasswordUser = Annotated[User, Depends(no_api_key)]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]


async def _get_or_404(session: AsyncSession, model: type[M], ident: object, kind: str) -> M:
    row = await session.get(model, ident)
    if row is None:
        raise not_found(kind, repr(ident) if isinstance(ident, str) else ident)
    return row


RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def load_strategy(
    strategy_id: Annotated[StrategyId, Path(description="strategy id, as in its YAML")],
    session: SessionDep,
    _user: CurrentUser,
) -> Strategy:
    return await _get_or_404(session, Strategy, strategy_id, "strategy")


async def load_run(run_id: uuid.UUID, session: SessionDep, _user: CurrentUser) -> Run:
    return await _get_or_404(session, Run, run_id, "run")


async def load_position(position_id: RowId, session: SessionDep, _user: CurrentUser) -> Position:
    return await _get_or_404(session, Position, position_id, "position")


async def load_alert(alert_id: RowId, session: SessionDep, _user: CurrentUser) -> Alert:
    return await _get_or_404(session, Alert, alert_id, "alert")


StrategyDep = Annotated[Strategy, Depends(load_strategy)]
RunDep = Annotated[Run, Depends(load_run)]
PositionDep = Annotated[Position, Depends(load_position)]
AlertDep = Annotated[Alert, Depends(load_alert)]


def equal_to(model: type[Base], **values: object) -> list[ColumnElement[bool]]:
    """`model.<name> == value` for every keyword whose value is not None (the filters sent)."""
    return [getattr(model, name) == value for name, value in values.items() if value is not None]


def from_attributes(schema: type[S]) -> Callable[[object], S]:
    """Build `schema` from a row's attributes of the same names."""
    return lambda row: schema.model_validate(row, from_attributes=True)


_TOTAL = "total_rows__"
"""Label of the window count a listing reads its total from."""


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    async def fetch(
        self,
        session: AsyncSession,
        model: type[M],
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        to_item: Callable[[M], T],
    ) -> Page[T]:
        """This page of `model`'s rows matching `conditions`, with the count over every page."""
        rows = (
            await session.execute(self._page(select(model, _window_total()), conditions, order_by))
        ).all()
        carried = rows[0][-1] if rows else None
        total = await self._total(session, model, conditions, carried)
        return Page[T](
            items=[to_item(row[0]) for row in rows],
            total=total,
            page=self.page,
            per_page=self.per_page,
        )

    async def fetch_columns(
        self,
        session: AsyncSession,
        schema: type[S],
        source: type[Base],
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        computed: Mapping[str, ColumnElement[Any]] | None = None,
    ) -> Page[S]:
        """`fetch` for hot listings: only `schema`'s columns, as plain rows (no ORM objects).

        A field named in `computed` is read from that SQL expression instead of a column of
        `source` of the same name.
        """
        computed = computed or {}
        columns = [
            computed[name].label(name) if name in computed else getattr(source, name)
            for name in schema.model_fields
        ]
        query = self._page(select(*columns, _window_total()), conditions, order_by)
        rows = (await session.execute(query)).mappings().all()
        carried = rows[0][_TOTAL] if rows else None
        total = await self._total(session, source, conditions, carried)
        return Page[schema](  # type: ignore[valid-type]
            items=[schema.model_validate(row) for row in rows],
            total=total,
            page=self.page,
            per_page=self.per_page,
        )

    def _page(
        self,
        query: Select[*tuple[Any, ...]],
        conditions: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    ) -> Select[*tuple[Any, ...]]:
        return query.where(*conditions).order_by(*order_by).offset(self.offset).limit(self.per_page)

    async def _total(
        self,
        session: AsyncSession,
        source: type[Base],
        conditions: Sequence[ColumnElement[bool]],
        carried: int | None,
    ) -> int:
        """The count over every page: the window count the page's rows carry (one round trip),
        or, past the last page where no row carries it, a count of its own."""
        if carried is not None:
            return int(carried)
        if self.offset == 0:
            return 0
        count = select(func.count()).select_from(source).where(*conditions)
        return await session.scalar(count) or 0


def _window_total() -> Label[int]:
    return func.count().over().label(_TOTAL)


async def get_pagination(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
) -> Pagination:
    return Pagination(page=page, per_page=per_page)


PageParams = Annotated[Pagination, Depends(get_pagination)]
