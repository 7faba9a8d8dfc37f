"""Integration fixtures: moto in process, resources created from template.yaml by the same code the
local stack uses, functions imported from functions/<name>/app.py with the template's environment."""

from __future__ import annotations

import contextvars
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import boto3
import botocore.client
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from bookbay.models.table import BaseItem
from bookbay.repositories.catalog import CatalogRepository
from bookbay.shopfile import read_shop_file
from bookbay_local.aws import AwsClients
from bookbay_local.functions import FunctionSpec, read_functions
from bookbay_local.intrinsics import LOCAL_PARAMETERS, Resolver
from bookbay_local.resources import Provisioned, provision
from bookbay_local.template import load_template
from tests.support import FakeLambdaContext, load_function

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# The stack's PublicBaseUrl (deploy-time parameter): every link the functions write starts with it.
PUBLIC_BASE_URL = "https://book.demo-auto.example.com"


# Which function's handler is running, so the AWS calls it makes can be held to its IAM policy.
_current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


def _iam_actions(resolver: Resolver, logical_id: str) -> set[str]:
    """The actions the template's inline policies grant ``logical_id``."""
    actions: set[str] = set()
    for policy in resolver.resolve(resolver.template.properties(logical_id).get("Policies") or []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            granted = statement.get("Action", [])
            actions.update([granted] if isinstance(granted, str) else granted)
    return actions


class _InProcessClients:
    """boto3 clients for moto's in-process mock (no endpoint URL)."""

    def __call__(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)


@dataclass
class Stack:
    resolver: Resolver
    provisioned: Provisioned
    functions: dict[str, FunctionSpec]
    calls: dict[str, set[str]] = field(default_factory=dict)
    _worker: ModuleType | None = None

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
        """Import the function; its handler records the AWS calls it makes under ``logical_id``."""
        module = load_function(folder, self.env(logical_id))
        handler = module.lambda_handler

        @functools.wraps(handler)
        def recorded(event: Any, context: Any) -> Any:
            token = _current_function.set(logical_id)
            try:
                return handler(event, context)
            finally:
                _current_function.reset(token)

        vars(module)["lambda_handler"] = recorded
        return module

    def outbox_worker(self) -> ModuleType:
        """The outbox sender, loaded once per test (its adapters can be patched for faults)."""
        if self._worker is None:
            self._worker = self.load("outbox_sender", "OutboxSenderFunction")
        return self._worker

    def record(self, action: str) -> None:
        function = _current_function.get()
        if function is not None:
            self.calls.setdefault(function, set()).add(action)

    def calls_outside_policies(self) -> dict[str, set[str]]:
        return {
            function: extra
            for function, made in self.calls.items()
            if (extra := made - _iam_actions(self.resolver, function))
        }


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        BaseItem._connection = None  # no client from an earlier test's mock
        resolver = Resolver(
            load_template(ROOT / "template.yaml"),
            parameter_overrides={**LOCAL_PARAMETERS, "PublicBaseUrl": PUBLIC_BASE_URL},
        )
        provisioned = provision(resolver, cast(AwsClients, _InProcessClients()))
        stack = Stack(resolver, provisioned, {spec.logical_id: spec for spec in read_functions(resolver)})
        make_api_call = botocore.client.BaseClient._make_api_call

        def recording(client: Any, operation: str, params: Any) -> Any:
            stack.record(f"{client.meta.service_model.signing_name}:{operation}")
            return make_api_call(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        yield stack
        BaseItem._connection = None
    # Every AWS call a handler made in the test is one its IAM policy in the template allows.
    assert stack.calls_outside_policies() == {}


@pytest.fixture
def seeded(stack: Stack) -> Stack:
    """The demo shop, taking bookings without a code (the demo asks for one, the product's default):
    a test about codes switches them on with set_settings(require_verification=True)."""
    catalog = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")
    settings = catalog.shop.settings.model_copy(update={"require_verification": False})
    catalog = catalog.model_copy(update={"shop": catalog.shop.model_copy(update={"settings": settings})})
    CatalogRepository(stack.table_name, REGION).upsert(catalog)
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
def availability_app(seeded: Stack) -> ModuleType:
    return seeded.load("availability", "AvailabilityFunction")


@pytest.fixture
def booking_app(seeded: Stack) -> ModuleType:
    """The booking function on the demo shop, whose links start with PUBLIC_BASE_URL."""
    return seeded.load("booking", "BookingFunction")


@pytest.fixture
def staff_app(seeded: Stack) -> ModuleType:
    """The staff link pages on the demo shop, whose links start with PUBLIC_BASE_URL."""
    return seeded.load("staff_links", "StaffLinksFunction")


@pytest.fixture
def customer_links_app(seeded: Stack) -> ModuleType:
    """The customer link pages on the demo shop, whose links start with PUBLIC_BASE_URL."""
    return seeded.load("customer_links", "CustomerLinksFunction")


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
    return stack.outbox_worker()


@pytest.fixture
def reminders_app(seeded: Stack) -> ModuleType:
    """The reminder function (target of the reminder schedules) on the demo shop, whose links
    start with PUBLIC_BASE_URL."""
    return seeded.load("reminders", "RemindersFunction")


@pytest.fixture
def verification_app(seeded: Stack) -> ModuleType:
    """The verification function on the demo shop; its signing secret is read afresh (no cache)."""
    parameters.clear_caches()
    return seeded.load("verification", "VerificationFunction")


# ------------------------------------------------------------------------------ what the stack holds
def table_items(stack: Stack) -> list[dict[str, Any]]:
    """Every item of the domain table, by key (a Scan: the tests may, the code may not)."""
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=stack.table_name)["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def outbox(stack: Stack, *destinations: str) -> list[dict[str, Any]]:
    """The outbox items (the messages sent), only those to ``destinations`` when given."""
    return [
        i
        for i in table_items(stack)
        if i["entity"]["S"] == "Outbox" and (not destinations or i["to_address"]["S"] in destinations)
    ]


def schedules(stack: Stack, prefix: str) -> dict[str, dict[str, Any]]:
    """The schedules in the stack's group whose names start with ``prefix``, by name."""
    client = boto3.client("scheduler", region_name=REGION)
    names = [s["Name"] for s in client.list_schedules(GroupName=stack.schedule_group)["Schedules"]]
    return {
        name: client.get_schedule(Name=name, GroupName=stack.schedule_group)
        for name in names
        if name.startswith(prefix)
    }


def apply_effects(stack: Stack, now: datetime | None = None) -> list[dict[str, Any]]:
    """Hand every pending effect (reminder schedules, review sequences) to the outbox worker as the
    table's stream would (at ``now``, default the clock's), and return the effect items as they are
    afterwards."""
    pending = [
        i for i in table_items(stack) if i["entity"]["S"] == "Effect" and i["status"]["S"] == "pending"
    ]
    if pending:
        worker = stack.outbox_worker()
        records = [
            {
                "eventID": f"effect-{index}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "Keys": {"PK": item["PK"], "SK": item["SK"]},
                    "NewImage": item,
                    "SequenceNumber": str(100 + index),
                    "StreamViewType": "NEW_IMAGE",
                },
            }
            for index, item in enumerate(pending)
        ]
        clock = vars(worker)["clock"]
        vars(worker)["clock"] = clock if now is None else (lambda: now)
        try:
            answer = worker.lambda_handler({"Records": records}, FakeLambdaContext())
        finally:
            vars(worker)["clock"] = clock
        assert answer == {"batchItemFailures": []}, answer
    return [i for i in table_items(stack) if i["entity"]["S"] == "Effect"]


def at_expression(moment: datetime) -> str:
    """The one-time schedule expression firing at ``moment``."""
    return f"at({moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """DynamoDB operations made from here on (``clear()`` it to start again), by name."""
    calls: Counter[str] = Counter()
    make_api_call = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return make_api_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls
