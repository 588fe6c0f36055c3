"""Turning the platform's SQLAlchemy URLs into what raw drivers accept."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... (asyncpg.connect's form), password kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
