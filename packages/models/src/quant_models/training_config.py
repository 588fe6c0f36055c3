"""`quant train CONFIG`: the training config in YAML, read with file:line errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error
from quant_features import LabelSpec
from quant_models.validation import Thresholds
from quant_models.xgboost_model import XGBoostParams
from quant_strategy.yaml_reader import read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticInputs(_Strict):
    """A generated panel with a planted signal (quant_models.synthetic)."""

    n_symbols: int = Field(default=20, ge=1, le=5_000)
    n_dates: int = Field(default=500, ge=20, le=100_000)
    n_features: int = Field(default=10, ge=3, le=1_000)
    horizon: int = Field(default=5, ge=1, le=250)
    signal: float = Field(default=0.3, ge=0)
    seed: int = Field(default=7, ge=0)


class FeatureInputs(_Strict):
    """Features from the feature store: a feature set (configs/features) over a data source's
    bars, computed once per version and reused (quant_db.feature_store); labels from the same
    bars by the config's `label`. Each symbol's bars are read from its first, as the strategy's
    incremental features are; rows are kept from `start` to `end`."""

    set: str = Field(min_length=1, description="a name in configs/features, or a YAML path")
    data: str = Field(default="samples", min_length=1, description="a data source spec")
    symbols: list[str] = Field(min_length=1, max_length=5_000)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FeatureInputs:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class Inputs(_Strict):
    """Where features and labels come from: a table, or a synthetic panel.

    table: a Parquet file indexed (or with columns) symbol, timestamp; the feature columns
    plus label, ret, t1 and weight (the labels frame of FEATURES_API.md joined on the right).
    """

    table: str | None = None
    synthetic: SyntheticInputs | None = None
    features: FeatureInputs | None = None
    feature_set_version: str = Field(default="", max_length=64)

    @model_validator(mode="after")
    def _one_source(self) -> Inputs:
        given = [self.table, self.synthetic, self.features]
        if sum(item is not None for item in given) != 1:
            raise ValueError("give exactly one of table, synthetic or features")
        return self


class Label(_Strict):
    """The label definition recorded with the model (what the inputs' label column means)."""

    kind: Literal["fixed_horizon", "triple_barrier", "synthetic"]
    horizon: int | None = Field(default=None, ge=1)
    threshold: float | None = None
    profit_take: float | None = Field(default=None, gt=0)
    stop_loss: float | None = Field(default=None, gt=0)
    max_holding: int | None = Field(default=None, ge=1)

    def spec(self) -> LabelSpec:
        """The label as quant_features computes it from bars (binary: 1 up, 0 otherwise)."""
        if self.kind == "synthetic":
            raise ValueError("a synthetic label comes with synthetic inputs only")
        fields = self.model_dump(exclude_none=True)
        return LabelSpec.model_validate({**fields, "binary": True})


class ModelSpec(_Strict):
    kind: Literal["xgboost"] = "xgboost"
    params: XGBoostParams = Field(default_factory=XGBoostParams)
    candidates: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    """Other parameter sets tried (each overriding params); they count as trials in DSR and PBO."""

    @model_validator(mode="after")
    def _valid_candidates(self) -> ModelSpec:
        for position, overrides in enumerate(self.candidates):
            try:
                XGBoostParams.model_validate({**self.params.model_dump(), **overrides})
            except ValidationError as exc:
                field, message = first_validation_error(exc, unknown="unknown parameter")
                raise ValueError(f"candidates.{position}.{field}: {message}") from None
        return self

    def all_params(self) -> list[XGBoostParams]:
        """The base parameters first, then each candidate's."""
        base = self.params.model_dump()
        return [self.params, *(XGBoostParams(**{**base, **c}) for c in self.candidates)]


class WalkForwardSpec(_Strict):
    n_splits: int = Field(default=5, ge=2, le=100)
    embargo_days: float = Field(default=0.0, ge=0)
    max_train_groups: int | None = Field(default=None, ge=1)


class CPCVSpec(_Strict):
    n_groups: int = Field(default=6, ge=3, le=16)
    n_test_groups: int = Field(default=2, ge=1)
    embargo_days: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _fewer_tests(self) -> CPCVSpec:
        if self.n_test_groups >= self.n_groups:
            raise ValueError(f"n_test_groups must be below n_groups ({self.n_groups})")
        return self


class ValidationSpec(_Strict):
    walk_forward: WalkForwardSpec = Field(default_factory=WalkForwardSpec)
    cpcv: CPCVSpec | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)


class TrainingConfig(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    inputs: Inputs
    label: Label
    model: ModelSpec = Field(default_factory=ModelSpec)
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    source: str = Field(default="", exclude=True)
    """The file the config came from (paths in it are relative to its folder)."""

    def feature_set_path(self) -> Path:
        """inputs.features.set as a YAML path: given, else configs/features/<name>.yaml beside
        the config's folder, else under the working directory."""
        assert self.inputs.features is not None
        name = self.inputs.features.set
        here = Path(self.source).parent
        if name.endswith((".yaml", ".yml")):
            path = Path(name)
            return path if path.is_absolute() or not (here / path).exists() else here / path
        sibling = here.parent / "features" / f"{name}.yaml"
        return sibling if sibling.exists() else Path("configs") / "features" / f"{name}.yaml"

    def table_path(self) -> Path:
        assert self.inputs.table is not None
        path = Path(self.inputs.table)
        return path if path.is_absolute() else Path(self.source).parent / path

    def embargo(self, days: float) -> pd.Timedelta:
        return pd.Timedelta(days=days)


def _lines(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    """The line of every dotted field path in the document."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[path] = key_node.start_mark.line + 1
            _lines(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            path = f"{prefix}.{position}"
            out[path] = item.start_mark.line + 1
            _lines(item, path, out)


def _line_of(lines: dict[str, int], path: str) -> int:
    while path:
        if path in lines:
            return lines[path]
        path = path.rpartition(".")[0]
    return 1


def parse_training_config(text: str, file: str) -> TrainingConfig:
    """Validate YAML `text` as a TrainingConfig; every mistake is one ConfigError (file:line)."""
    document = read_yaml(text, file)
    if not isinstance(document.data, dict) or document.root is None:
        raise ConfigError("expected a mapping (name, inputs, label, model, ...)", file=file, line=1)
    lines: dict[str, int] = {}
    _lines(document.root, "", lines)
    try:
        return TrainingConfig.model_validate({**document.data, "source": file})
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown="unknown field (check the spelling)")
        path = path or "(top level)"
        raise ConfigError(message, file=file, line=_line_of(lines, path), field=path) from None


def load_training_config(path: str | Path) -> TrainingConfig:
    where = Path(path)
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read the training config: {reason}", file=str(where)) from None
    return parse_training_config(text, str(where))
