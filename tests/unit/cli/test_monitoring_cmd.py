"""`quant monitoring run` refuses a bad channels file with one line naming file, line and field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

QUANT = str(Path(sys.executable).with_name("quant"))


def test_monitoring_run_with_an_unset_secret_exits_2_naming_file_line_and_field(
    tmp_path: Path,
) -> None:
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:9/x\n"
        "    secret: ${QUANT_TEST_UNSET_SECRET}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QUANT_TEST_UNSET_SECRET"}
    done = subprocess.run(
        [QUANT, "monitoring", "run", "--channels", str(channels)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {channels}:5: channels.0.secret: environment variable "
        "QUANT_TEST_UNSET_SECRET is not set (or mark the channel optional)"
    )
