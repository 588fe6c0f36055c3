"""DATABASE_URL and REDIS_URL are checked before anything connects."""

from __future__ import annotations

import pytest

from quant_db.urls import platform_database_url, platform_redis_url
from quant_domain import ConfigError


def test_an_asyncpg_url_is_used_as_written() -> None:
    url = "postgresql+asyncpg://quant:p%40ss@db:5432/quant?ssl=require"
    assert platform_database_url(url) == url


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_gets_the_asyncpg_driver(scheme: str) -> None:
    url = f"{scheme}://quant:secret@db:5432/quant"
    assert platform_database_url(url) == "postgresql+asyncpg://quant:secret@db:5432/quant"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@localhost/quant", "mysql:// is not supported"),
        ("sqlite:///quant.db", "sqlite:// is not supported"),
        ("localhost:5432", "is not a database URL"),
    ],
)
def test_anything_else_is_a_config_error_naming_database_url(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        platform_database_url(url)
    assert caught.value.field == "DATABASE_URL"
    assert words in caught.value.message


@pytest.mark.parametrize("url", ["redis://r:6379/0", "rediss://r:6380/1", "unix:///run/r.sock"])
def test_redis_urls_the_client_opens_are_used_as_written(url: str) -> None:
    assert platform_redis_url(url) == url


@pytest.mark.parametrize(
    ("url", "words"), [("http://r:6379", "http:// is not Redis"), ("r:6379", "not a URL")]
)
def test_anything_else_is_a_config_error_naming_redis_url(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        platform_redis_url(url)
    assert caught.value.field == "REDIS_URL"
    assert words in caught.value.message
