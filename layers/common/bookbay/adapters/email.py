"""E-mail delivery: SES (raw MIME, HTML + text) behind an interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cached_property
from typing import Any, Protocol

from bookbay.adapters import aws_client


class DeliveryError(Exception):
    """The provider did not accept the message; retry later.

    It carries the provider's error code (``code``: an AWS error code such as MessageRejected or
    Throttling, or the exception's type when there is no answer) and HTTP status (``status``), and
    never the provider's message: SES and SNS name the recipient in it ("Address blacklisted:
    pat@example.com", "Invalid parameter: PhoneNumber Reason: +1512..."), and this error is logged
    and stored on the outbox item. ``str()`` is ``"<provider> <code>[ (HTTP <status>)]"``."""

    def __init__(self, provider: str, code: str, status: int | None = None) -> None:
        self.provider = provider
        self.code = code
        self.status = status
        super().__init__(f"{provider} {code}" + (f" (HTTP {status})" if status else ""))

    @classmethod
    def of(cls, provider: str, exc: Exception) -> DeliveryError:
        """The DeliveryError of a botocore ClientError / BotoCoreError: its code and status only."""
        response = getattr(exc, "response", None)
        error = response.get("Error") if isinstance(response, dict) else None
        code = error.get("Code") if isinstance(error, dict) else None
        metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
        status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
        return cls(
            provider,
            str(code) if code else type(exc).__name__,
            status if isinstance(status, int) and not isinstance(status, bool) else None,
        )


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class EmailSender(Protocol):
    def send(self, email: Email) -> str:
        """Deliver ``email``; returns the provider's message id; raises DeliveryError."""
        ...


def build_mime(email: Email, sender: str, sender_name: str) -> bytes:
    message = EmailMessage()
    message["From"] = str(Address(display_name=sender_name, addr_spec=sender))
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


class SesEmailSender:
    def __init__(self, sender: str, sender_name: str, client: Any | None = None) -> None:
        self._given_client = client
        self._sender = sender
        self._sender_name = sender_name

    @cached_property
    def _client(self) -> Any:
        """The given client, or boto3's, made on the first call (not at cold start)."""
        return self._given_client if self._given_client is not None else aws_client("ses")

    def send(self, email: Email) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        raw = build_mime(email, self._sender, self._sender_name)
        try:
            response = self._client.send_raw_email(
                Source=self._sender, Destinations=[email.to], RawMessage={"Data": raw}
            )
        except (ClientError, BotoCoreError) as exc:
            raise DeliveryError.of("SES", exc) from None  # the cause's text names the recipient
        return str(response["MessageId"])


class InMemoryEmailSender:
    """Test fake: keeps what it was asked to send; ``fail`` makes the next sends raise."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.fail = False

    def send(self, email: Email) -> str:
        if self.fail:
            raise DeliveryError("fake-ses", "ServiceUnavailable", 503)
        self.sent.append(email)
        return f"fake-email-{len(self.sent)}"
