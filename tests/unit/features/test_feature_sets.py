"""Feature-set files: validated with file:line errors, versioned by definition and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_features import load_feature_set, parse_feature_set, specs

BUILT_IN = sorted(Path("configs/features").glob("*.yaml"))

MINIMAL = """\
name: tiny
features:
  - kind: returns
    horizons: [1, 5]
  - kind: rsi
    length: 14
"""


def test_every_built_in_set_loads_with_distinct_columns() -> None:
    assert {path.stem for path in BUILT_IN} >= {"daily_core_v1", "daily_ranks_v1"}
    for path in BUILT_IN:
        feature_set = load_feature_set(path)
        assert feature_set.name == path.stem
        assert len(set(feature_set.columns)) == len(feature_set.columns)


def test_columns_follow_the_declared_order() -> None:
    assert parse_feature_set(MINIMAL, "tiny.yaml").columns == ["ret_1", "ret_5", "rsi_14"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (MINIMAL.replace("length: 14", "length: 1"), "bad.yaml:6: features.1.length:"),
        (MINIMAL.replace("kind: rsi", "kind: rsj"), "bad.yaml:5: features.1:"),
        (MINIMAL.replace("    length: 14", "    lenght: 14"), "bad.yaml:6: features.1.lenght:"),
        (MINIMAL.replace("[1, 5]", "[1, 1]"), "bad.yaml:4: features.0.horizons:"),
        (MINIMAL + "  - kind: cross_rank\n    of: ret_21\n", "bad.yaml:8: features.2.of:"),
        (MINIMAL + "  - kind: returns\n    horizons: [5]\n", "bad.yaml:7: features.2:"),
        ("name: [x\n", "bad.yaml:2: YAML syntax error"),
        ("- a\n", "bad.yaml:1: expected a mapping"),
    ],
)
def test_a_mistake_names_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_feature_set(text, "bad.yaml")
    assert str(caught.value).startswith(where), str(caught.value)


def test_a_missing_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_feature_set("configs/features/no_such_set.yaml")


def test_version_is_stable_and_ignores_the_description() -> None:
    first = parse_feature_set(MINIMAL, "a.yaml")
    described = parse_feature_set("description: words\n" + MINIMAL, "b.yaml")
    assert first.version == described.version
    assert len(first.version) == 16


def test_a_changed_parameter_or_default_spelled_out_changes_the_version_only_when_it_differs() -> (
    None
):
    base = parse_feature_set(MINIMAL, "a.yaml")
    assert (
        parse_feature_set(MINIMAL.replace("length: 14", "length: 15"), "a").version != base.version
    )
    # writing out a default is the same definition
    spelled = MINIMAL.replace("horizons: [1, 5]", "horizons: [1, 5]\n    log: false")
    assert parse_feature_set(spelled, "a").version == base.version


def test_a_code_version_bump_changes_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    base = parse_feature_set(MINIMAL, "a.yaml").version
    monkeypatch.setitem(specs.CODE_VERSIONS, "rsi", specs.CODE_VERSIONS["rsi"] + 1)
    assert parse_feature_set(MINIMAL, "a.yaml").version != base


def test_ranks_make_the_storage_version_depend_on_the_universe() -> None:
    plain = parse_feature_set(MINIMAL, "a.yaml")
    assert plain.storage_version(["A", "B"]) == plain.version
    ranked = parse_feature_set(MINIMAL + "  - kind: cross_rank\n    of: ret_5\n", "r.yaml")
    assert ranked.cross_sectional
    assert ranked.storage_version(["A", "B"]) == ranked.storage_version(["B", "A"])
    assert ranked.storage_version(["A", "B"]) != ranked.storage_version(["A", "C"])
