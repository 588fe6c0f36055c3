"""quant up's dashboard handling: serve an existing build with `next start`, stop its whole group.

A stand-in `next` (a Python script that serves /api/health and leaves a child behind, as the real
next-server does) keeps this test free of a Node build; tests/e2e-style coverage of the real
dashboard lives in apps/dashboard/e2e.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quant_cli import up_cmd

FAKE_NEXT = """#!{python}
import http.server, json, os, subprocess, sys
port = int(sys.argv[sys.argv.index("-p") + 1])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open("started.json", "w") as out:
    json.dump({{"args": sys.argv[1:], "api": os.environ.get("QUANT_API_URL"),
               "telemetry": os.environ.get("NEXT_TELEMETRY_DISABLED"), "child": child.pid,
               "secret": os.environ.get("QUANT_PROXY_SECRET")}}, out)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b'{{"ok": true}}')
    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.fixture
def built_dashboard(tmp_path: Path) -> Path:
    (tmp_path / ".next").mkdir()
    (tmp_path / ".next" / "BUILD_ID").write_text("test-build")
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "next"
    script.write_text(FAKE_NEXT.format(python=sys.executable))
    script.chmod(0o755)
    return tmp_path


def test_dashboard_built_needs_a_build_id_and_next(tmp_path: Path, built_dashboard: Path) -> None:
    assert up_cmd.dashboard_built(built_dashboard)
    (built_dashboard / ".next" / "BUILD_ID").unlink()
    assert not up_cmd.dashboard_built(built_dashboard)
    assert not up_cmd.dashboard_built(tmp_path / "missing")


def test_start_dashboard_serves_with_the_api_url_and_stop_group_leaves_nothing_behind(
    built_dashboard: Path,
) -> None:
    port = _free_port()
    child = up_cmd.start_dashboard(
        built_dashboard, "127.0.0.1", port, "http://127.0.0.1:8123", "p" * 40
    )
    try:
        assert up_cmd.wait_until_serving(f"http://127.0.0.1:{port}/api/health", child, 30)
        started = json.loads((built_dashboard / "started.json").read_text())
        assert started["args"] == ["start", "-p", str(port), "-H", "127.0.0.1"]
        assert started["api"] == "http://127.0.0.1:8123"
        assert started["secret"] == "p" * 40  # the API's QUANT_PROXY_SECRET (ADR 0016)
        assert started["telemetry"] == "1"
        assert os.getpgid(child.pid) == child.pid  # a group of its own: Ctrl-C and stop reach all
        assert _alive(started["child"])
    finally:
        up_cmd.stop_group(child, grace=5)
    assert child.returncode is not None
    deadline = time.monotonic() + 5
    while _alive(started["child"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(started["child"]), "next-server's stand-in outlived the group stop"


def test_wait_until_serving_gives_up_when_the_server_exits(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    assert not up_cmd.wait_until_serving(f"http://127.0.0.1:{_free_port()}/", dead, 5)


def test_build_dashboard_without_npm_says_so_and_skips(
    built_dashboard: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(up_cmd.shutil, "which", lambda _name: None)
    assert up_cmd.build_dashboard(built_dashboard) is False
    assert "npm was not found" in capsys.readouterr().out


def test_start_dashboard_takes_the_folder_relative_to_where_quant_up_runs(
    built_dashboard: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default --dashboard-dir is relative (apps/dashboard) while `next` runs inside it."""
    monkeypatch.chdir(built_dashboard.parent)
    port = _free_port()
    child = up_cmd.start_dashboard(
        Path(built_dashboard.name), "127.0.0.1", port, "http://127.0.0.1:8123"
    )
    try:
        assert up_cmd.wait_until_serving(f"http://127.0.0.1:{port}/api/health", child, 30)
    finally:
        up_cmd.stop_group(child, grace=5)


def test_build_dashboard_with_a_relative_folder_runs_next_from_inside_it(
    built_dashboard: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(built_dashboard.parent)
    ran: list[tuple[list[str], Path]] = []

    def run(step: list[str], cwd: Path, **_: object) -> subprocess.CompletedProcess[bytes]:
        assert Path(step[0]).is_absolute() or step[0] == "npm-stand-in"
        ran.append((step, Path(cwd)))
        return subprocess.CompletedProcess(step, 0)

    monkeypatch.setattr(up_cmd.shutil, "which", lambda _name: "npm-stand-in")
    monkeypatch.setattr(up_cmd.subprocess, "run", run)
    assert up_cmd.build_dashboard(Path(built_dashboard.name)) is True
    assert [step[1] for step, _ in ran] == ["install", "build"]
    # npm install may not rewrite the committed lockfile: a report's code version would read
    # "-dirty" from the first `make demo` on
    assert "--no-save" in ran[0][0]
    assert all(cwd.resolve() == built_dashboard.resolve() for _, cwd in ran)


def test_the_proxy_secret_is_generated_once_into_the_state_folder_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUANT_PROXY_SECRET", raising=False)
    first = up_cmd.proxy_secret(tmp_path)
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "proxy_secret").stat().st_mode) == 0o600
    assert up_cmd.proxy_secret(tmp_path) == first
    monkeypatch.setenv("QUANT_PROXY_SECRET", "q" * 40)
    assert up_cmd.proxy_secret(tmp_path) == "q" * 40
