"""Processes that start together may all migrate: the advisory lock makes that safe."""

from __future__ import annotations

import subprocess
import sys

from alembic.script import ScriptDirectory

from quant_db.migrate import alembic_config
from tests.integration.test_migrations import query, tables


def test_concurrent_upgrades_from_several_processes_all_succeed(empty_database_url: str) -> None:
    # separate processes, like several workers starting at once (Alembic's context is per process)
    code = "import sys; from quant_db.migrate import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in processes]
    assert [err for err, code in outcomes if code != 0] == []
    assert "runs" in tables(empty_database_url)
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    assert query(empty_database_url, "SELECT version_num FROM alembic_version") == [(head,)]
