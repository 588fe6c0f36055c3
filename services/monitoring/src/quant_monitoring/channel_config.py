"""The alert channels file (configs/alerts/channels.yaml): channels, delivery rules, daily summary.

Secrets are never written in the file: a value `${NAME}` is read from the environment when the
file is loaded. A channel marked `optional: true` whose variables are unset (or empty) is left out (the
file in the repository lists every kind, so a machine with none configured still starts); any
other unset variable or invalid field is one ConfigError naming the file, line and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import exchange_calendars as xcals
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from quant_db.alerts import Severity
from quant_domain import ConfigError
from quant_domain.errors import first_validation_error
from quant_strategy.yaml_reader import read_yaml

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KINDS = ("slack", "webhook", "email")
DEFAULT_FILE = Path("configs/alerts/channels.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Channel(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    min_severity: Severity = Field(
        default=Severity.WARNING, description="alerts below this severity skip the channel"
    )
    optional: bool = Field(
        default=False, description="left out, not an error, when its ${VARIABLES} are unset"
    )
    daily_summary: bool = Field(
        default=True, description="receives the daily summary whatever its minimum severity"
    )


class SlackChannel(_Channel):
    """A Slack incoming webhook (its URL is the secret)."""

    kind: Literal["slack"]
    url: SecretStr


class WebhookChannel(_Channel):
    """Any HTTP endpoint: our JSON, signed with HMAC-SHA256 of `<timestamp>.<body>`."""

    kind: Literal["webhook"]
    url: SecretStr
    secret: SecretStr = Field(description="HMAC key; at least 16 characters")
    signature_header: str = Field(default="X-Quant-Signature", min_length=1)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 16:
            raise ValueError("at least 16 characters")
        return secret


class EmailChannel(_Channel):
    """Mail over SMTP (STARTTLS unless turned off, e.g. for a relay on loopback)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)


Channel = Annotated[SlackChannel | WebhookChannel | EmailChannel, Field(discriminator="kind")]


class DeliveryRules(_Strict):
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="one attempt's limit")
    max_attempts: int = Field(default=5, ge=1, le=50)
    backoff_s: float = Field(default=2.0, gt=0, description="wait after the first failure")
    backoff_max_s: float = Field(default=300.0, gt=0)
    dedupe_window_s: float = Field(default=300.0, ge=0, description="one key per channel per")
    concurrency: int = Field(default=4, ge=1, le=64, description="deliveries in flight at once")

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failed ones (doubling, capped)."""
        return float(min(self.backoff_s * 2 ** max(attempts - 1, 0), self.backoff_max_s))


class SummaryRules(_Strict):
    enabled: bool = True
    calendar: str = Field(default="XNYS", min_length=1, description="exchange calendar")
    after_close_minutes: int = Field(default=15, ge=0, le=720)

    @field_validator("calendar")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in xcals.get_calendar_names():
            raise ValueError(f"unknown exchange calendar {name!r} (e.g. XNYS, XLON)")
        return name


class _File(_Strict):
    channels: list[Channel] = Field(default_factory=list)
    delivery: DeliveryRules = Field(default_factory=DeliveryRules)
    daily_summary: SummaryRules = Field(default_factory=SummaryRules)


@dataclass(frozen=True)
class ChannelsConfig:
    """What the monitoring service delivers to, and how."""

    channels: list[SlackChannel | WebhookChannel | EmailChannel]
    delivery: DeliveryRules = field(default_factory=DeliveryRules)
    daily_summary: SummaryRules = field(default_factory=SummaryRules)
    left_out: list[str] = field(default_factory=list)  # optional channels missing variables

    def channel(self, name: str) -> SlackChannel | WebhookChannel | EmailChannel | None:
        return next((c for c in self.channels if c.name == name), None)


def _lines(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            out[path] = key.start_mark.line + 1
            _lines(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}.{index}" if prefix else str(index)
            out[path] = item.start_mark.line + 1
            _lines(item, path, out)


def _line_of(lines: Mapping[str, int], path: str) -> int:
    parts = path.split(".")
    while parts:
        if ".".join(parts) in lines:
            return lines[".".join(parts)]
        parts.pop()
    return 1


def _missing(value: Any, env: Mapping[str, str], path: str) -> list[tuple[str, str]]:
    """(field, variable) of every `${VARIABLE}` under `value` that `env` lacks."""
    if isinstance(value, str):
        # set but empty (a blank line of .env) counts as unset
        return [(path, name) for name in _REFERENCE.findall(value) if not env.get(name)]
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in _missing(v, env, f"{path}.{k}")]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _missing(v, env, f"{path}.{i}")]
    return []


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: env[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    return value


def parse_channels(text: str, file: str, env: Mapping[str, str] | None = None) -> ChannelsConfig:
    """Validate the channels file `text`; `${NAME}` comes from `env` (the process environment)."""
    environment = os.environ if env is None else env
    document = read_yaml(text, file)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping (channels, delivery, daily_summary)", file=file, line=1
        )
    lines: dict[str, int] = {}
    if document.root is not None:
        _lines(document.root, "", lines)
    left_out: list[str] = []
    kept_index: list[int] = []
    raw_channels = data.get("channels") or []
    if isinstance(raw_channels, list):
        kept: list[Any] = []
        for index, raw in enumerate(raw_channels):
            unset = _missing(raw, environment, f"channels.{index}")
            if unset and isinstance(raw, dict) and raw.get("optional") is True:
                left_out.append(f"{raw.get('name', index)} (${{{unset[0][1]}}} is not set)")
                continue
            if unset:
                path, name = unset[0]
                raise ConfigError(
                    f"environment variable {name} is not set (or mark the channel optional)",
                    file=file,
                    line=_line_of(lines, path),
                    field=path,
                )
            kept.append(raw)
            kept_index.append(index)
        data = {**data, "channels": kept}
    unset = _missing({k: v for k, v in data.items() if k != "channels"}, environment, "")
    if unset:
        path, name = unset[0]
        path = path.lstrip(".")
        raise ConfigError(
            f"environment variable {name} is not set",
            file=file,
            line=_line_of(lines, path),
            field=path,
        )
    try:
        parsed = _File.model_validate(_expand(data, environment))
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown="unknown field (check the spelling)")
        path = _original_path(path or "(top level)", kept_index)
        raise ConfigError(message, file=file, line=_line_of(lines, path), field=path) from None
    names = [c.name for c in parsed.channels]
    for index, name in enumerate(names):
        if name in names[:index]:
            path = _original_path(f"channels.{index}.name", kept_index)
            raise ConfigError(
                f"channel {name!r} is named twice",
                file=file,
                line=_line_of(lines, path),
                field=path,
            )
    return ChannelsConfig(parsed.channels, parsed.delivery, parsed.daily_summary, left_out)


def _original_path(path: str, kept: list[int]) -> str:
    """Map `channels.<i>...` of the kept channels back to the channel's index in the file."""
    parts = path.split(".")
    if len(parts) < 2 or parts[0] != "channels" or not parts[1].isdigit():
        return path
    if len(parts) > 2 and parts[2] in _KINDS:  # pydantic names the union member: not a field
        del parts[2]
    index = int(parts[1])
    original = kept[index] if index < len(kept) else index
    return ".".join(["channels", str(original), *parts[2:]])


def load_channels(
    path: str | Path = DEFAULT_FILE, env: Mapping[str, str] | None = None
) -> ChannelsConfig:
    """Read and validate the channels file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror}", file=str(path)) from None
    return parse_channels(text, str(path), env)
