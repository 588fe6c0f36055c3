"""`quant features compute`: user mistakes end with exit 2 and one line, before any database work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_cli import quant


def test_a_feature_set_mistake_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("name: bad\nfeatures:\n  - kind: rsi\n    length: 0\n", encoding="utf-8")
    code, out, err = quant(capsys, monkeypatch, "features", "compute", str(config))
    assert (code, out) == (2, "")
    assert (
        err == f"error: {config}:4: features.0.length: Input should be greater than or equal to 2\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--symbols", "SP500,NOPE"),
            "error: --symbols: unknown symbol 'NOPE'; the data source has",
        ),
        (("--symbols", " , "), "error: --symbols: name at least one symbol"),
        (("--start", "2018-01-02", "--end", "2018-01-01"), "error: --start 2018-01-02 is after"),
        (("--data", "nowhere"), "error: data folder nowhere does not exist"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _, err = quant(
        capsys, monkeypatch, "features", "compute", "configs/features/daily_core_v1.yaml", *args
    )
    assert code == 2
    assert err.startswith(message)
    assert len(err.splitlines()) == 1
