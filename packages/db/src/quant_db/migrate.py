"""Run the Alembic history programmatically: `quant db upgrade` and the tests use this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from quant_db.embedded import database_url
from quant_db.settings import StorageSettings
from quant_db.urls import asyncpg_dsn, redacted
from quant_domain import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _in_thread(fn: object, *args: object) -> None:
    # env.py calls asyncio.run(); give it a thread of its own when a loop is already running
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)  # type: ignore[operator]
        return
    import threading  # noqa: PLC0415

    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


CONNECT_TIMEOUT_S = 10.0


def _connect_once(url: str) -> None:
    import asyncpg  # noqa: PLC0415 - the driver loads with the first database command

    async def probe() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
        await connection.close()

    asyncio.run(probe())


def check_reachable(url: str) -> None:
    """A ConfigError naming DATABASE_URL, in one line, when the server at `url` cannot be used
    (down, unknown host, wrong user, password or database); a driver's traceback tells an
    operator less."""
    import asyncpg  # noqa: PLC0415

    try:
        _in_thread(_connect_once, url)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = (str(exc).splitlines() or [""])[0] or type(exc).__name__
        raise ConfigError(
            f"cannot use the database at {redacted(url)}: {reason}", field="DATABASE_URL"
        ) from None


def _migrate(step: object, url: str, revision: str) -> None:
    try:
        _in_thread(step, alembic_config(url), revision)
    except Exception:
        # a server that cannot be used is one line naming DATABASE_URL; anything else (a
        # failing migration) keeps its own error. Probed only on failure: no start-up cost.
        check_reachable(url)
        raise


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    _migrate(command.upgrade, url, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at `url` down to `revision` ("base" = empty)."""
    _migrate(command.downgrade, url, revision)


def migrated_url(settings: StorageSettings) -> str:
    """The database the platform uses (DATABASE_URL, else the embedded one), migrated to head."""
    url = database_url(settings)
    upgrade(url)
    return url
