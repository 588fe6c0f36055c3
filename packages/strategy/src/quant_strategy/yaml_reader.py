"""The bounded YAML reader, which moved down to quant_features so feature-set files share it."""

from quant_features.yaml_reader import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    YamlDocument,
    read_config_file,
    read_yaml,
    yaml_value,
)

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YamlDocument",
    "read_config_file",
    "read_yaml",
    "yaml_value",
]
