"""What X-Ray would be given: the functions' trace segments, captured in process on moto.

Powertools' Tracer puts a handler's whole response (and any error) into its subsegment's metadata
unless told not to; responses hold verification tokens, manage-link tokens, contact data and the
link pages' HTML. Here the shared tracer's provider is a recorder (tracing is off outside Lambda),
a customer verifies, books and opens the manage link, and nothing they sent or got back may be in
any segment. The template's side (POWERTOOLS_TRACER_CAPTURE_* off for every function) is held by
tests/infrastructure/test_template_security.py, the handlers' side by tests/unit/test_tracing.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest

from bookbay.observability import tracer
from tests.integration.conftest import REGION, Stack
from tests.support import FakeLambdaContext, load_event, response_json, with_body
from tests.support.appointments import local, next_weekday

PHONE = "+15125550142"
EMAIL = "traced.customer@example.com"


@dataclass
class Subsegment:
    name: str
    annotations: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[f"{namespace}/{key}"] = value

    def add_exception(self, exception: BaseException, stack: Any = None) -> None:
        self.metadata["exception"] = repr(exception)


@dataclass
class Recorder:
    """A tracing provider that keeps every subsegment a handler opens."""

    segments: list[Subsegment] = field(default_factory=list)

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[Subsegment]:
        segment = Subsegment(name or "")
        self.segments.append(segment)
        yield segment

    def text(self) -> str:
        return json.dumps([vars(s) for s in self.segments], default=repr)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    monkeypatch.setattr(tracer, "provider", recording)
    return recording


def invoke(app: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext())
    return response


def post(app: ModuleType, event_name: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    event = with_body(load_event(event_name), json.dumps(body))
    event["headers"].update(headers)
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["requestContext"]["identity"]["sourceIp"] = "203.0.113.77"
    return invoke(app, event)


def last_code(stack: Stack) -> str:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=stack.table_name)["Items"]
    texts = [i["text"]["S"] for i in items if i["PK"]["S"].startswith("OUTBOX#") and "text" in i]
    codes = [m.group(1) for t in texts if (m := re.match(r"^(\d{6}) is your ", t))]
    assert codes, "no code was sent"
    return codes[-1]


def test_no_response_token_or_contact_value_reaches_a_trace_segment(
    seeded: Stack,
    verification_app: ModuleType,
    booking_app: ModuleType,
    customer_links_app: ModuleType,
    recorder: Recorder,
) -> None:
    sent = post(verification_app, "verification_codes_post", {"channel": "email", "to": EMAIL})
    assert sent["statusCode"] == 202, sent["body"]
    code = last_code(seeded)
    checked = post(verification_app, "verification_checks_post", {"to": EMAIL, "code": code})
    assert checked["statusCode"] == 200, checked["body"]
    verification_token = response_json(checked)["verification_token"]

    booking = json.loads(load_event("booking_post")["body"])
    booking.update(
        start=local(next_weekday(datetime.now(UTC).date()), 10).isoformat(),
        notes="Gate code 4417",
        customer={"first_name": "Tracy", "last_name": "Segment", "phone": PHONE, "email": EMAIL},
    )
    booked = post(
        booking_app,
        "booking_post",
        booking,
        **{"Idempotency-Key": "trace-test-0001", "Authorization": f"Bearer {verification_token}"},
    )
    assert booked["statusCode"] == 201, booked["body"]
    manage_url = response_json(booked)["manage_url"]
    link_token = manage_url.rsplit("/c/", 1)[1]

    page_event = load_event("customer_get")
    page_event["path"] = f"/c/{link_token}"
    page_event["pathParameters"] = {"token": link_token}
    page = invoke(customer_links_app, page_event)
    assert page["statusCode"] == 200
    assert "Austin Downtown" in page["body"]

    # A refusal carries no secret, but its body must not be kept either.
    refused = post(verification_app, "verification_checks_post", {"to": EMAIL, "code": "000000"})
    assert refused["statusCode"] in (400, 410), refused["body"]

    assert len(recorder.segments) == 5, [s.name for s in recorder.segments]
    assert all(s.name == "## lambda_handler" for s in recorder.segments)
    traced = recorder.text()
    secrets = {
        "the code": code,
        "the verification token": verification_token,
        "the manage-link token": link_token,
        "the e-mail": EMAIL,
        "the phone": PHONE,
        "the phone as typed": "512",
        "the name": "Tracy",
        "the notes": "4417",
        "a page's HTML": "<html",
        "a response body": "statusCode",
    }
    found = [what for what, value in secrets.items() if value.lower() in traced.lower()]
    assert not found, f"in the trace segments: {found}"
    # What a segment may hold: the cold-start and service annotations.
    assert all(not s.metadata for s in recorder.segments)
