"""Turning the platform's SQLAlchemy URLs into what raw drivers accept."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from quant_domain import ConfigError

DRIVER = "postgresql+asyncpg"
_POSTGRES_ALIASES = frozenset({"postgresql", "postgres"})
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_DATABASE_FORM = "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE"


def platform_database_url(url: str) -> str:
    """DATABASE_URL as the platform uses it: PostgreSQL through asyncpg (`postgresql://` and
    `postgres://` get that driver); anything else is a ConfigError naming DATABASE_URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{url!r} is not a database URL; expected {_DATABASE_FORM}", field="DATABASE_URL"
        ) from None
    if parsed.drivername == DRIVER:
        return url
    if parsed.drivername in _POSTGRES_ALIASES:
        return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)
    raise ConfigError(
        f"{parsed.drivername}:// is not supported: the platform needs PostgreSQL ({_DATABASE_FORM})",
        field="DATABASE_URL",
    )


def platform_redis_url(url: str) -> str:
    """REDIS_URL, checked to be one the redis client can open; else a ConfigError naming it."""
    if not url.startswith(_REDIS_SCHEMES):
        scheme, separator, _rest = url.partition("://")
        what = f"{scheme}:// is not Redis" if separator else "not a URL"
        raise ConfigError(
            f"{what}; expected redis://HOST:PORT/DB (or rediss:// or unix://)", field="REDIS_URL"
        )
    return url


def asyncpg_dsn(url: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... (asyncpg.connect's form), password kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
