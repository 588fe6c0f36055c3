"""`quant api` in a real process (uvicorn as the command starts it), for tests of what only a
real server shows: proxy headers, request bodies on the wire, the process's memory."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_api.auth import Passwords
from quant_api.users import create_user
from quant_db.schema.identity import Role
from tests.integration.api.conftest import STRATEGIES, make_settings

QUANT = Path(sys.executable).parent / "quant"
START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_user(tmp_path: Path, database_url: str, username: str, password: str, role: Role) -> None:
    """A user in the served API's database, hashed with the cheap test cost the server uses."""
    passwords = Passwords(make_settings(tmp_path))

    async def body() -> None:
        engine = create_async_engine(database_url)
        try:
            async with async_sessionmaker(engine)() as session, session.begin():
                await create_user(
                    session, passwords, username=username, password=password, role=role
                )
        finally:
            await engine.dispose()

    asyncio.run(body())


@contextmanager
def quant_api(tmp_path: Path, database_url: str, redis_url: str, **env: str) -> Iterator[Served]:
    """`quant api` on a free port with the test settings (cheap argon2, a private Redis prefix);
    `env` adds or overrides QUANT_* variables. Stopped (SIGTERM, then SIGKILL) on exit."""
    port = _free_port()
    settings = make_settings(tmp_path)
    variables = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUANT_STATE_DIR": str(tmp_path / "state"),
        "QUANT_JWT_SECRET": settings.jwt_secret.get_secret_value() if settings.jwt_secret else "",
        "QUANT_STRATEGIES_DIR": str(STRATEGIES),
        "QUANT_PASSWORD_TIME_COST": "1",
        "QUANT_PASSWORD_MEMORY_COST": "8192",
        "QUANT_PASSWORD_PARALLELISM": "1",
        "QUANT_RATE_LIMIT_PREFIX": settings.rate_limit_prefix,
        "QUANT_LOG_LEVEL": "warning",
        **env,
    }
    for name in ("FORWARDED_ALLOW_IPS", "QUANT_TRUSTED_PROXIES", "QUANT_PROXY_SECRET"):
        if name not in env:
            variables.pop(name, None)
    log = (tmp_path / f"api-{port}.log").open("wb")
    process = subprocess.Popen(
        [str(QUANT), "api", "--port", str(port)],
        env=variables,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/health", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"quant api did not come up: {Path(log.name).read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield Served(url, process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
