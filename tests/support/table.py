"""The domain table on moto, in process, for unit tests of repositories and services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws
from pynamodb.models import Model

from bookbay.models.table import BaseItem, bind_table

TABLE = "bookbay-unit"
REGION = "us-east-1"


def forget_connections() -> None:
    """PynamoDB caches a connection (and so its endpoint and moto mock) per model class: drop all."""
    pending: list[type[Model]] = [Model]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_connection" in vars(cls):
            cls._connection = None


@contextmanager
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty domain table (keys and indexes as the models declare them); yields its name."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        bind_table(TABLE, REGION)
        forget_connections()  # no client from an earlier test's mock
        BaseItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        try:
            yield TABLE
        finally:
            forget_connections()
