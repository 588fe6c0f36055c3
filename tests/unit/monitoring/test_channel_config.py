"""The alert channels file: env-var secrets, optional channels, file:line:field errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_monitoring.channel_config import load_channels, parse_channels

REPO = Path(__file__).resolve().parents[3]

GOOD = """\
channels:
  - name: slack
    kind: slack
    url: ${SLACK_URL}
  - name: hook
    kind: webhook
    url: http://127.0.0.1:9/hook
    secret: ${HOOK_SECRET}
    optional: true
delivery:
  max_attempts: 3
"""


def _error(text: str, **env: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_channels(text, "channels.yaml", env)
    return str(caught.value)


def test_channels_with_their_variables_set_are_loaded_with_secrets_hidden() -> None:
    config = parse_channels(
        GOOD, "channels.yaml", {"SLACK_URL": "https://example.test/s", "HOOK_SECRET": "x" * 20}
    )
    assert [c.name for c in config.channels] == ["slack", "hook"]
    assert config.delivery.max_attempts == 3
    assert "example.test" not in repr(config)
    assert config.left_out == []


def test_optional_channel_with_an_unset_variable_is_left_out_not_an_error() -> None:
    config = parse_channels(GOOD, "channels.yaml", {"SLACK_URL": "https://example.test/s"})
    assert [c.name for c in config.channels] == ["slack"]
    assert config.left_out == ["hook (${HOOK_SECRET} is not set)"]


def test_required_channel_with_an_unset_variable_names_file_line_and_field() -> None:
    message = _error(GOOD)
    assert message == (
        "channels.yaml:4: channels.0.url: environment variable SLACK_URL is not set "
        "(or mark the channel optional)"
    )


def test_bad_field_after_a_left_out_channel_names_its_own_line() -> None:
    text = GOOD + "  backoff_s: -1\n"
    message = _error(text, SLACK_URL="https://example.test/s")
    assert message.startswith("channels.yaml:12: delivery.backoff_s: ")


def test_short_webhook_secret_and_unknown_kind_are_refused_with_their_line() -> None:
    short = GOOD.replace("    optional: true\n", "")
    assert _error(short, SLACK_URL="u", HOOK_SECRET="short").startswith(
        "channels.yaml:8: channels.1.secret: "
    )
    unknown = "channels:\n  - {name: x, kind: pager, url: u}\n"
    assert _error(unknown).startswith("channels.yaml:2: channels.0")


def test_channel_named_twice_is_refused() -> None:
    text = "channels:\n  - {name: a, kind: slack, url: u}\n  - {name: a, kind: slack, url: v}\n"
    assert _error(text) == "channels.yaml:3: channels.1.name: channel 'a' is named twice"


def test_repository_channels_file_loads_with_no_variables_set() -> None:
    config = load_channels(REPO / "configs/alerts/channels.yaml", env={})
    assert config.channels == []
    assert len(config.left_out) == 3
    assert config.daily_summary.calendar == "XNYS"


def test_variable_set_but_empty_counts_as_unset() -> None:
    config = parse_channels(
        GOOD, "channels.yaml", {"SLACK_URL": "https://x.test/s", "HOOK_SECRET": ""}
    )
    assert [c.name for c in config.channels] == ["slack"]
