"""The outbox sender: delivers through SES / SNS (moto), once, and retries failures on a schedule."""

from __future__ import annotations

import copy
import email
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from bookbay.domain.messages import OutboundMessage
from bookbay.repositories.outbox import OutboxRepository
from tests.support import FakeLambdaContext, LogLines, load_event

pytestmark = pytest.mark.integration
REGION = "us-east-1"


def sent_emails() -> list[email.message.Message]:
    return [
        email.message_from_string(m.raw_data) for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    ]


def sent_sms() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def enqueue(stack: Any, message_id: str, channel: str = "email") -> OutboundMessage:
    message = OutboundMessage(
        id=message_id,
        channel=channel,  # type: ignore[arg-type]
        to="pat.customer@example.com" if channel == "email" else "+15125550123",
        subject="We received your appointment request" if channel == "email" else None,
        text="Hi Pat, we received your request for Tue Nov 24, 9:00 AM.",
        html="<p>Hi Pat, we received your request.</p>" if channel == "email" else None,
        created_at=datetime.now(UTC),
    )
    OutboxRepository(stack.table_name, REGION).enqueue(message)
    return message


def stream_event(*message_ids: str) -> dict[str, Any]:
    template = load_event("outbox_stream_insert")["Records"][0]
    records = []
    for index, message_id in enumerate(message_ids):
        record = copy.deepcopy(template)
        record["eventID"] = f"event-{index}"
        record["dynamodb"]["SequenceNumber"] = str(100 + index)
        record["dynamodb"]["NewImage"]["message_id"] = {"S": message_id}
        records.append(record)
    return {"Records": records}


def stored(stack: Any, message_id: str) -> Any:
    item = OutboxRepository(stack.table_name, REGION).get(message_id)
    assert item is not None
    return item


def test_an_email_is_sent_once_even_when_the_batch_is_retried(outbox_app: Any, stack: Any) -> None:
    enqueue(stack, "msg-email-0001")
    context = FakeLambdaContext()
    assert outbox_app.lambda_handler(stream_event("msg-email-0001"), context) == {"batchItemFailures": []}
    assert outbox_app.lambda_handler(stream_event("msg-email-0001"), context) == {"batchItemFailures": []}
    emails = sent_emails()
    assert len(emails) == 1
    assert emails[0]["To"] == "pat.customer@example.com"
    assert emails[0]["Subject"] == "We received your appointment request"
    assert emails[0]["From"] == f"{stack.shop_name} <{stack.sender_email}>"
    item = stored(stack, "msg-email-0001")
    assert (item.status, item.attempts, item.provider_message_id is not None) == ("sent", 1, True)


def test_an_sms_goes_through_sns(outbox_app: Any, stack: Any) -> None:
    enqueue(stack, "msg-sms-0001", channel="sms")
    outbox_app.lambda_handler(stream_event("msg-sms-0001"), FakeLambdaContext())
    assert sent_sms() == [("+15125550123", "Hi Pat, we received your request for Tue Nov 24, 9:00 AM.")]


def test_a_failing_ses_delays_the_message_and_delivers_it_once_ses_recovers(
    outbox_app: Any, stack: Any
) -> None:
    ses = boto3.client("ses", region_name=REGION)
    ses.delete_identity(Identity=stack.sender_email)  # SES now refuses the sender
    enqueue(stack, "msg-email-0002")
    context = FakeLambdaContext()
    # The stream batch succeeds: the failure is recorded and a retry is scheduled, nothing is lost.
    assert outbox_app.lambda_handler(stream_event("msg-email-0002"), context) == {"batchItemFailures": []}
    assert sent_emails() == []
    item = stored(stack, "msg-email-0002")
    assert (item.status, item.attempts) == ("pending", 1)
    assert "MessageRejected" in item.last_error
    scheduler = boto3.client("scheduler", region_name=REGION)
    (summary,) = scheduler.list_schedules(GroupName=stack.schedule_group)["Schedules"]
    schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=stack.schedule_group)
    assert schedule["ScheduleExpression"].startswith("at(")
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == context.invoked_function_arn
    retry_event = json.loads(schedule["Target"]["Input"])
    assert retry_event == {"outbox_retry": "msg-email-0002", "after_attempts": 1}

    ses.verify_email_identity(EmailAddress=stack.sender_email)  # SES recovers
    assert outbox_app.lambda_handler(retry_event, context) == {"outcome": "sent"}
    assert outbox_app.lambda_handler(retry_event, context) == {"outcome": "skipped"}  # a duplicate retry
    assert len(sent_emails()) == 1
    assert stored(stack, "msg-email-0002").attempts == 2


def test_a_wake_up_the_sweep_has_overtaken_does_nothing(outbox_app: Any, stack: Any) -> None:
    """The sweep may make a retry before its wake-up fires; the late wake-up neither tries again
    nor schedules another: each retry is made once, by whichever comes first."""
    ses = boto3.client("ses", region_name=REGION)
    scheduler = boto3.client("scheduler", region_name=REGION)
    ses.delete_identity(Identity=stack.sender_email)
    enqueue(stack, "msg-email-0009")
    outbox_app.lambda_handler(stream_event("msg-email-0009"), FakeLambdaContext())
    (first,) = scheduler.list_schedules(GroupName=stack.schedule_group)["Schedules"]
    first_wake_up = json.loads(
        scheduler.get_schedule(Name=first["Name"], GroupName=stack.schedule_group)["Target"]["Input"]
    )
    assert first_wake_up == {"outbox_retry": "msg-email-0009", "after_attempts": 1}
    # SES still down: the sweep makes the retry first (attempt 2) and schedules the next wake-up
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    sweep = {"detail-type": "Scheduled Event", "source": "aws.events", "time": later.isoformat()}
    assert outbox_app.lambda_handler(sweep, FakeLambdaContext()) == {"swept": {"message_retry_scheduled": 1}}
    assert stored(stack, "msg-email-0009").attempts == 2
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=stack.schedule_group)["Schedules"]}
    # The first wake-up fires late: nothing tried, nothing scheduled, the attempts stay 2
    assert outbox_app.lambda_handler(first_wake_up, FakeLambdaContext()) == {"outcome": "skipped"}
    assert stored(stack, "msg-email-0009").attempts == 2
    assert {s["Name"] for s in scheduler.list_schedules(GroupName=stack.schedule_group)["Schedules"]} == names
    # SES back: the second wake-up sends it, once
    ses.verify_email_identity(EmailAddress=stack.sender_email)
    second_wake_up = {"outbox_retry": "msg-email-0009", "after_attempts": 2}
    assert outbox_app.lambda_handler(second_wake_up, FakeLambdaContext()) == {"outcome": "sent"}
    assert outbox_app.lambda_handler(second_wake_up, FakeLambdaContext()) == {"outcome": "skipped"}
    assert len(sent_emails()) == 1
    assert stored(stack, "msg-email-0009").attempts == 3


def test_a_scheduler_down_too_leaves_the_retry_to_the_sweep(
    outbox_app: Any, stack: Any, monkeypatch: Any
) -> None:
    class BrokenScheduler:
        def schedule_once(self, *args: Any) -> None:
            raise RuntimeError("scheduler unavailable")

        def delete(self, name: str) -> None:
            raise RuntimeError("scheduler unavailable")

    boto3.client("ses", region_name=REGION).delete_identity(Identity=stack.sender_email)
    monkeypatch.setattr(outbox_app.deps, "scheduler", BrokenScheduler())
    enqueue(stack, "msg-sms-0003", channel="sms")
    enqueue(stack, "msg-email-0003")
    response = outbox_app.lambda_handler(stream_event("msg-sms-0003", "msg-email-0003"), FakeLambdaContext())
    # The e-mail's failure is recorded with its next due time: no wake-up could be scheduled, so the
    # sweep delivers it then (the record itself succeeded: a stream retry would only repeat this)
    assert response == {"batchItemFailures": []}
    failed = stored(stack, "msg-email-0003")
    assert (failed.status, failed.attempts, failed.gsi3pk) == ("pending", 1, "OUTBOX#DUE")
    assert stored(stack, "msg-sms-0003").status == "sent"
    assert len(sent_sms()) == 1
    # When SES is back and the sweep runs after the retry time, the e-mail goes, once
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=stack.sender_email)
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    sweep = {"detail-type": "Scheduled Event", "source": "aws.events", "time": later.isoformat()}
    assert outbox_app.lambda_handler(sweep, FakeLambdaContext()) == {"swept": {"message_sent": 1}}
    assert outbox_app.lambda_handler(sweep, FakeLambdaContext()) == {"swept": {}}
    assert len(sent_emails()) == 1
    assert stored(stack, "msg-email-0003").status == "sent"


def test_our_own_failures_are_reported_per_record(outbox_app: Any, stack: Any, monkeypatch: Any) -> None:
    claim = outbox_app.deps.repo.claim

    def table_down_for_email(message_id: str, now: datetime, **kwargs: Any) -> Any:
        if message_id == "msg-email-0004":
            raise RuntimeError("table unavailable")
        return claim(message_id, now, **kwargs)

    monkeypatch.setattr(outbox_app.deps.repo, "claim", table_down_for_email)
    enqueue(stack, "msg-sms-0004", channel="sms")
    enqueue(stack, "msg-email-0004")
    response = outbox_app.lambda_handler(stream_event("msg-sms-0004", "msg-email-0004"), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "101"}]}  # only the e-mail's record
    assert stored(stack, "msg-email-0004").status == "pending"  # the stream will bring it back
    assert stored(stack, "msg-sms-0004").status == "sent"
    assert len(sent_sms()) == 1


def test_records_that_are_not_outbox_messages_are_skipped(outbox_app: Any) -> None:
    event = stream_event("x")
    del event["Records"][0]["dynamodb"]["NewImage"]["message_id"]
    assert outbox_app.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert sent_emails() == []


def test_a_sweep_run_ahead_of_time_never_takes_a_delivery_in_progress(outbox_app: Any, stack: Any) -> None:
    """The local stack's scheduler runs the sweep "as if" a later time had come: it takes what is
    due by then, but a message another invocation is sending right now is still that one's (its
    lease runs by the clock), so it is not sent a second time."""
    enqueue(stack, "msg-email-0010")
    enqueue(stack, "msg-email-0011")
    in_progress = OutboxRepository(stack.table_name, REGION).claim("msg-email-0010", datetime.now(UTC))
    assert in_progress is not None
    ahead = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    sweep = {"detail-type": "Scheduled Event", "source": "aws.events", "time": ahead.isoformat()}
    answer = outbox_app.lambda_handler(sweep, FakeLambdaContext())
    assert answer == {"swept": {"message_skipped": 1, "message_sent": 1}}
    assert stored(stack, "msg-email-0010").status == "sending"  # still the first delivery's
    assert stored(stack, "msg-email-0011").status == "sent"  # due by then: the sweep sent it
    assert len(sent_emails()) == 1


# ------------------------------------------------------------------------------ provider errors
@pytest.mark.parametrize(
    ("channel", "method", "code", "provider_message", "recipient", "stored_error"),
    [
        (
            "email",
            "send_raw_email",
            "MessageRejected",
            "Address blacklisted: pat.customer@example.com",
            "pat.customer@example.com",
            "SES MessageRejected (HTTP 400)",
        ),
        (
            "sms",
            "publish",
            "InvalidParameter",
            "Invalid parameter: PhoneNumber Reason: +15125550123 is not valid to publish to",
            "5125550123",
            "SNS InvalidParameter (HTTP 400)",
        ),
    ],
)
def test_a_provider_error_is_logged_and_stored_by_its_code_never_its_text(
    outbox_app: Any,
    stack: Any,
    capfd: pytest.CaptureFixture[str],
    channel: str,
    method: str,
    code: str,
    provider_message: str,
    recipient: str,
    stored_error: str,
) -> None:
    """SES and SNS name the recipient in their error messages (issue 14, item 7): the worker's log
    lines and the outbox item's last_error keep the provider's code and HTTP status only."""
    from botocore.stub import Stubber

    sender = outbox_app.deps.email if channel == "email" else outbox_app.deps.sms
    message_id = f"msg-{channel}-0020"
    enqueue(stack, message_id, channel=channel)
    lines = LogLines(outbox_app.logger.registered_formatter)
    outbox_app.logger.addHandler(lines)
    try:
        with Stubber(sender._client) as stubber:
            stubber.add_client_error(
                method, service_error_code=code, service_message=provider_message, http_status_code=400
            )
            answer = outbox_app.lambda_handler(stream_event(message_id), FakeLambdaContext())
    finally:
        outbox_app.logger.removeHandler(lines)
    assert answer == {"batchItemFailures": []}  # recorded, retry scheduled
    item = stored(stack, message_id)
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, stored_error)

    captured = capfd.readouterr()
    log = "\n".join([*lines.lines, captured.out, captured.err])
    records = [json.loads(line) for line in lines.lines]
    (failed,) = [r for r in records if str(r.get("message", "")).startswith("outbox delivery failed")]
    assert (failed["error"], failed["provider_status"], failed["message_id"]) == (code, 400, message_id)
    assert recipient not in log
    assert provider_message.split(":", maxsplit=1)[0] not in log  # none of the provider's text
    assert sent_emails() == [] and sent_sms() == []
