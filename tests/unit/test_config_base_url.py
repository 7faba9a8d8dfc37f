"""PUBLIC_BASE_URL (the template's PublicBaseUrl): required by every function, https, plain http
only on a loopback host (the local stack); a bad one fails the cold start naming it."""

from __future__ import annotations

import pytest

from bookbay.config import BaseConfig, ConfigError, SettingsApiConfig

BASE = {"TABLE_NAME": "t", "SHOP_NAME": "Shop"}


@pytest.mark.parametrize(
    "url",
    [
        "https://book.example-shop.com",
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
        "http://127.0.0.1:3000",
        "http://localhost:8080",
        "http://[::1]:3000",
    ],
)
def test_a_https_or_loopback_base_url_is_taken(url: str) -> None:
    assert BaseConfig.from_env({**BASE, "PUBLIC_BASE_URL": url}).public_base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://book.example-shop.com",  # plain http off the loopback host
        "http://10.0.0.5:3000",
        "http://127.0.0.1.evil.example:3000",
        "http://localhost.evil.example",
        "https://book.example-shop.com/",
        "https://book.example.com?x=1",
        "https://book.example.com#x",
        "https://user:pw@book.example.com",
        "https://book.example.com:99999",
        "https://book example.com",
        "ftp://book.example.com",
        "book.example.com",
        "https://",
        "",
    ],
)
def test_any_other_base_url_fails_the_cold_start(url: str) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        BaseConfig.from_env({**BASE, "PUBLIC_BASE_URL": url})


def test_without_a_base_url_the_cold_start_fails() -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        BaseConfig.from_env(BASE)


def test_the_settings_function_needs_its_owner_group() -> None:
    env = {**BASE, "PUBLIC_BASE_URL": "https://book.example.com", "STAFF_USER_POOL_ID": "us-east-1_Pool1"}
    with pytest.raises(ConfigError, match="OWNER_GROUP"):
        SettingsApiConfig.from_env(env)
    config = SettingsApiConfig.from_env({**env, "OWNER_GROUP": "owner", "STAFF_GROUP": "staff"})
    assert (config.owner_group, config.staff_group) == ("owner", "staff")
