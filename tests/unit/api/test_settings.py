"""API settings read from the environment as operators write them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quant_api.settings import ApiSettings


@pytest.mark.parametrize(("written", "read"), [("INFO", "info"), ("Warning", "warning")])
def test_the_log_level_is_read_in_any_case(
    monkeypatch: pytest.MonkeyPatch, written: str, read: str
) -> None:
    # .env.example and docker-compose.yml both write QUANT_LOG_LEVEL=INFO
    monkeypatch.setenv("QUANT_LOG_LEVEL", written)
    assert ApiSettings().log_level == read


def test_a_log_level_that_does_not_exist_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANT_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError):
        ApiSettings()


def test_an_empty_proxy_secret_is_unset_and_a_short_one_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUANT_PROXY_SECRET", "")
    assert ApiSettings(_env_file=None).proxy_secret is None  # type: ignore[call-arg]
    monkeypatch.setenv("QUANT_PROXY_SECRET", "short")
    with pytest.raises(ValidationError):
        ApiSettings(_env_file=None)  # type: ignore[call-arg]


def test_trusted_proxies_are_comma_separated_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUANT_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert ApiSettings(_env_file=None).trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]  # type: ignore[call-arg]
    monkeypatch.setenv("QUANT_TRUSTED_PROXIES", "")
    assert ApiSettings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]
    monkeypatch.setenv("QUANT_TRUSTED_PROXIES", "proxy.example.com")
    with pytest.raises(ValidationError):
        ApiSettings(_env_file=None)  # type: ignore[call-arg]
