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
