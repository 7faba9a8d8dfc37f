"""SMS delivery: SNS direct publish to a phone number, behind an interface."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from bookbay.adapters import aws_client
from bookbay.adapters.email import DeliveryError


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    text: str


class SmsSender(Protocol):
    def send(self, sms: Sms) -> str:
        """Deliver ``sms``; returns the provider's message id; raises DeliveryError."""
        ...


class SnsSmsSender:
    def __init__(self, sender_id: str | None = None, client: Any | None = None) -> None:
        self._given_client = client
        self._attributes: dict[str, Any] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        if sender_id:
            self._attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}

    @cached_property
    def _client(self) -> Any:
        """The given client, or boto3's, made on the first call (not at cold start)."""
        return self._given_client if self._given_client is not None else aws_client("sns")

    def send(self, sms: Sms) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.publish(
                PhoneNumber=sms.to, Message=sms.text, MessageAttributes=self._attributes
            )
        except (ClientError, BotoCoreError) as exc:
            raise DeliveryError.of("SNS", exc) from None  # the cause's text names the recipient
        return str(response["MessageId"])


class InMemorySmsSender:
    def __init__(self) -> None:
        self.sent: list[Sms] = []
        self.fail = False

    def send(self, sms: Sms) -> str:
        if self.fail:
            raise DeliveryError("fake-sns", "ServiceUnavailable", 503)
        self.sent.append(sms)
        return f"fake-sms-{len(self.sent)}"
