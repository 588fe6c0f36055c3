"""open_source: the spec strings for samples, synthetic and folders, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError, DataNotFoundError, Timeframe
from quant_marketdata import FolderSource, SampleSource, SyntheticSource, open_source


def test_open_source_samples_gives_sample_source() -> None:
    source = open_source("samples")
    assert isinstance(source, SampleSource)
    assert source.name == "samples"


def test_open_source_bare_synthetic_uses_defaults() -> None:
    source = open_source("synthetic")
    assert isinstance(source, SyntheticSource)
    assert (source.seed, source.n_symbols, source.n_bars) == (42, 10, 2520)


def test_open_source_synthetic_options_reach_the_generator() -> None:
    source = open_source("synthetic:seed=7,symbols=20,bars=5000,timeframe=1h,start=2001-02-05")
    assert isinstance(source, SyntheticSource)
    assert (source.seed, source.n_symbols, source.n_bars) == (7, 20, 5000)
    assert source.timeframe == Timeframe.parse("1h")
    assert source.symbols()[-1] == "SYN019"
    assert str(source.get_bars("SYN000").index[0]) == "2001-02-05 00:00:00+00:00"


def test_open_source_synthetic_spaces_around_options_are_ignored() -> None:
    source = open_source("synthetic: seed = 3 , bars=10")
    assert isinstance(source, SyntheticSource)
    assert (source.seed, source.n_bars) == (3, 10)


def test_open_source_other_text_is_a_folder(tmp_path: Path) -> None:
    source = open_source(str(tmp_path))
    assert isinstance(source, FolderSource)
    assert source.path == tmp_path


def test_open_source_missing_folder_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        open_source(str(tmp_path / "absent"))


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("synthetic:colour=red", "colour", "unknown synthetic option"),
        ("synthetic:seed=abc", "seed", "'abc' is not an integer >= 0"),
        ("synthetic:seed=-3", "seed", "is not an integer >= 0"),
        ("synthetic:bars=0", "bars", "is not an integer >= 1"),
        ("synthetic:symbols=1.5", "symbols", "is not an integer >= 1"),
        ("synthetic:timeframe=fortnight", "timeframe", "is not a timeframe"),
        ("synthetic:start=2020-13-01", "start", "is not a date YYYY-MM-DD"),
        ("synthetic:seed", "seed", "no value given"),
        ("synthetic:seed=1,seed=2", "seed", "given twice"),
    ],
)
def test_open_source_bad_synthetic_spec_raises_config_error_naming_key(
    spec: str, field: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        open_source(spec)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
