"""Feature sets: a YAML file of feature kinds, validated with file:line errors, and its version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error
from quant_features.specs import CODE_VERSIONS, CrossRank, FeatureSpec
from quant_features.yaml_reader import line_map, read_config_file, read_yaml

ENGINE_VERSION = "1"
"""The version of the code that runs every kind (panel assembly, NaN rules, float dtype)."""


class FeatureSet(BaseModel):
    """A named, versioned list of features; `columns` are the output columns in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    timeframe: str = Field(default="1d", pattern=r"^\d+(m|h|d|w)$")
    features: list[FeatureSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _columns_unique_and_ranks_refer_back(self) -> FeatureSet:
        seen: set[str] = set()
        for index, spec in enumerate(self.features):
            if isinstance(spec, CrossRank) and spec.of not in seen:
                raise ValueError(
                    f"features.{index}.of: {spec.of!r} is not a column of an earlier feature"
                    f" (earlier columns: {', '.join(sorted(seen)) or 'none'})"
                )
            for column in spec.columns():
                if column in seen:
                    raise ValueError(f"features.{index}: column {column!r} is produced twice")
                seen.add(column)
        return self

    @property
    def columns(self) -> list[str]:
        return [column for spec in self.features for column in spec.columns()]

    @property
    def warmup_bars(self) -> int:
        """Bars before every column is defined (the first `warmup_bars` rows hold NaN)."""
        return max(spec.warmup() for spec in self.features)

    @property
    def cross_sectional(self) -> bool:
        """True when a column depends on the other symbols computed with it."""
        return any(isinstance(spec, CrossRank) for spec in self.features)

    def definition(self) -> dict[str, object]:
        """The canonical definition the version hashes: every field with its default filled in,
        plus the code version of each kind used (the description does not count)."""
        code: dict[str, str | int] = {"engine": ENGINE_VERSION}
        code.update({kind: CODE_VERSIONS[kind] for kind in sorted({s.kind for s in self.features})})
        return {
            "name": self.name,
            "timeframe": self.timeframe,
            "features": [spec.model_dump(mode="json") for spec in self.features],
            "code": code,
        }

    @property
    def version(self) -> str:
        """16 hex digits of sha256 over the canonical definition (ADR 0047)."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def storage_version(self, symbols: list[str]) -> str:
        """The store key: `version`, plus the universe's hash when ranks depend on it."""
        if not self.cross_sectional:
            return self.version
        universe = ",".join(sorted(symbols))
        return f"{self.version}-{hashlib.sha256(universe.encode()).hexdigest()[:8]}"


def parse_feature_set(text: str, file: str) -> FeatureSet:
    """Validate YAML `text` as a FeatureSet; errors name `file`, the line and the field."""
    document = read_yaml(text, file)
    if not isinstance(document.data, dict) or document.root is None:
        raise ConfigError("expected a mapping of fields (name, features, ...)", file=file, line=1)
    lines = line_map(document.root)
    try:
        return FeatureSet.model_validate(document.data)
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown="unknown field (check the spelling)")
        path = _spec_path(path)
        if message.startswith("features."):  # a whole-set rule that names its own field
            path, _, message = message.partition(": ")
        path = path or "(top level)"
        return _raise(message, file, path, lines)


def _spec_path(path: str) -> str:
    """pydantic puts the kind's tag in the path ("features.2.rsi.length"): drop it."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "features" and parts[2] in CODE_VERSIONS:
        del parts[2]
    return ".".join(parts)


def _raise(message: str, file: str, path: str, lines: dict[str, int]) -> FeatureSet:
    parts = path.split(".")
    line = None
    while parts and line is None:
        line = lines.get(".".join(parts))
        parts.pop()
    raise ConfigError(message, file=file, line=line or 1, field=path)


def load_feature_set(path: str | Path) -> FeatureSet:
    """Read and validate a feature-set YAML file (configs/features/*.yaml)."""
    return parse_feature_set(read_config_file(path, "feature set"), str(path))
