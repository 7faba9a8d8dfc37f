"""Integration fixtures: moto in process, resources created from template.yaml by the same code the
local stack uses, functions imported from functions/<name>/app.py with the template's environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from bookbay.models.table import BaseItem
from bookbay.repositories.catalog import CatalogRepository
from bookbay.shopfile import read_shop_file
from bookbay_local.aws import AwsClients
from bookbay_local.functions import FunctionSpec, read_functions
from bookbay_local.intrinsics import Resolver
from bookbay_local.resources import Provisioned, provision
from bookbay_local.template import load_template
from tests.support import FakeLambdaContext, load_function

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


class _InProcessClients:
    """boto3 clients for moto's in-process mock (no endpoint URL)."""

    def __call__(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)


@dataclass
class Stack:
    resolver: Resolver
    provisioned: Provisioned
    functions: dict[str, FunctionSpec]

    def env(self, logical_id: str) -> dict[str, str]:
        return dict(self.functions[logical_id].environment)

    @property
    def table_name(self) -> str:
        return self.provisioned.tables["BookbayTable"]

    @property
    def shop_name(self) -> str:
        return str(self.resolver.parameter("ShopName"))

    @property
    def sender_email(self) -> str:
        return str(self.resolver.parameter("SenderEmail"))

    @property
    def schedule_group(self) -> str:
        return self.provisioned.schedule_groups["ScheduleGroup"]

    def load(self, folder: str, logical_id: str) -> ModuleType:
        return load_function(folder, self.env(logical_id))


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        BaseItem._connection = None  # no client from an earlier test's mock
        resolver = Resolver(load_template(ROOT / "template.yaml"))
        provisioned = provision(resolver, cast(AwsClients, _InProcessClients()))
        yield Stack(resolver, provisioned, {spec.logical_id: spec for spec in read_functions(resolver)})
        BaseItem._connection = None


@pytest.fixture
def seeded(stack: Stack) -> Stack:
    CatalogRepository(stack.table_name, REGION).upsert(read_shop_file(ROOT / "ops" / "shops" / "demo.yaml"))
    return stack


@pytest.fixture
def call() -> Callable[[ModuleType, dict[str, Any]], dict[str, Any]]:
    def invoke(app: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext())
        return response

    return invoke


@pytest.fixture
def catalog_app(seeded: Stack) -> ModuleType:
    return seeded.load("catalog", "CatalogFunction")


@pytest.fixture
def empty_catalog_app(stack: Stack) -> ModuleType:
    return stack.load("catalog", "CatalogFunction")


@pytest.fixture
def settings_app(seeded: Stack) -> ModuleType:
    return seeded.load("admin_settings", "AdminSettingsFunction")


@pytest.fixture
def docs_app(stack: Stack) -> ModuleType:
    return stack.load("docs", "DocsFunction")


@pytest.fixture
def outbox_app(stack: Stack) -> ModuleType:
    return stack.load("outbox_sender", "OutboxSenderFunction")
