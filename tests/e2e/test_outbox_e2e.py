"""The outbox through the real local stack: the stream reader feeds the sender, SES/SNS in moto
record what was sent, /_local/messages shows it; an SES outage delays a message, never loses or
repeats it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from bookbay.domain.messages import OutboundMessage
from bookbay.models.table import BaseItem
from bookbay.repositories.outbox import OutboxRepository

pytestmark = pytest.mark.e2e
SENDER = "bookings@demo.bookbay.local"  # the local SenderEmail parameter


@pytest.fixture(scope="module")
def moto(local_stack: Any) -> Iterator[dict[str, Any]]:
    """boto3/pynamodb in this process pointed at the local stack's moto."""
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ENDPOINT_URL=local_stack.moto_url,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
    )
    BaseItem._connection = None
    dynamodb = boto3.client("dynamodb")
    (table,) = [
        name
        for name in dynamodb.list_tables()["TableNames"]
        if dynamodb.describe_table(TableName=name)["Table"].get("StreamSpecification")
    ]
    yield {"table": table, "ses": boto3.client("ses"), "scheduler": boto3.client("scheduler")}
    BaseItem._connection = None
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def enqueue(table: str, message_id: str, channel: str) -> None:
    OutboxRepository(table, "us-east-1").enqueue(
        OutboundMessage(
            id=message_id,
            channel=channel,  # type: ignore[arg-type]
            to="pat.customer@example.com" if channel == "email" else "+15125550123",
            subject="Your appointment request" if channel == "email" else None,
            text=f"Hello from {message_id}",
            html=f"<p>Hello from {message_id}</p>" if channel == "email" else None,
            created_at=datetime.now(UTC),
        )
    )


def delivered(http: httpx.Client, message_id: str) -> list[dict[str, Any]]:
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 20}).json() == {"drained": True}
    return [m for m in http.get("/_local/messages").json()["messages"] if message_id in m["text"]]


def test_messages_in_the_outbox_are_delivered_once(local_stack: Any, moto: dict[str, Any]) -> None:
    http = httpx.Client(base_url=local_stack.base_url, timeout=30)
    enqueue(moto["table"], "e2e-email-0001", "email")
    enqueue(moto["table"], "e2e-sms-00001", "sms")
    (email,) = delivered(http, "e2e-email-0001")
    assert (email["channel"], email["to"], email["subject"]) == (
        "email",
        "pat.customer@example.com",
        "Your appointment request",
    )
    assert "<p>Hello from e2e-email-0001</p>" in email["html"]
    (sms,) = delivered(http, "e2e-sms-00001")
    assert (sms["channel"], sms["to"]) == ("sms", "+15125550123")


def test_an_ses_outage_delays_a_message_until_ses_recovers(local_stack: Any, moto: dict[str, Any]) -> None:
    http = httpx.Client(base_url=local_stack.base_url, timeout=30)
    moto["ses"].delete_identity(Identity=SENDER)
    try:
        enqueue(moto["table"], "e2e-email-0002", "email")
        assert delivered(http, "e2e-email-0002") == []
        item = OutboxRepository(moto["table"], "us-east-1").get("e2e-email-0002")
        assert item is not None and (item.status, item.attempts) == ("pending", 1)
        # While SES is still down, the scheduled retry fails again and schedules the next one.
        soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
        fired = http.post("/_local/scheduler/run", json={"until": soon}).json()["fired"]
        assert [f["target_function"] for f in fired] == ["OutboxSenderFunction"]
        assert delivered(http, "e2e-email-0002") == []
    finally:
        moto["ses"].verify_email_identity(EmailAddress=SENDER)
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    fired = http.post("/_local/scheduler/run", json={"until": later}).json()["fired"]
    assert len(fired) == 1, fired
    assert len(delivered(http, "e2e-email-0002")) == 1
    assert http.post("/_local/scheduler/run", json={"until": later}).json()["fired"] == []
    assert len(delivered(http, "e2e-email-0002")) == 1
    item = OutboxRepository(moto["table"], "us-east-1").get("e2e-email-0002")
    assert item is not None and (item.status, item.attempts) == ("sent", 3)
