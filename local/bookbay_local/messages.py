"""What SES and SNS were asked to deliver, read from moto's backends in this process.

moto keeps SES e-mails in ``ses_backends[account][region].sent_messages`` (``send_raw_email``:
a ``RawMessage`` holding the MIME text; ``send_email``: a ``Message`` with one body, HTML if the
sender gave HTML) and SMS to phone numbers in ``sns_backends[...].sms_messages`` (id -> (phone,
text)). Neither has a time, so each message gets the time it was first seen; the stack looks
after every invocation, so that is close to when it was sent, and the order is stable.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Literal

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

Channel = Literal["sms", "email"]


@dataclass(frozen=True)
class OutgoingMessage:
    id: str
    channel: Channel
    to: str
    subject: str | None
    text: str | None
    html: str | None
    sent_at: datetime
    sender: str | None = None
    attachments: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "sent_at": self.sent_at.isoformat(timespec="milliseconds"),
            "from": self.sender,
            "attachments": list(self.attachments),
        }


class MessageLog:
    """Messages in the order they were first seen; ``observe()`` picks up new ones (cheap)."""

    def __init__(
        self, account_id: str, region: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._account_id = account_id
        self._region = region
        self._clock = clock
        self._seen: dict[str, OutgoingMessage] = {}
        self._lock = threading.Lock()

    def observe(self) -> None:
        ses = ses_backends[self._account_id][self._region]
        sns = sns_backends[self._account_id][self._region]
        with self._lock:
            now = self._clock()
            for sent in list(ses.sent_messages):
                message_id = str(getattr(sent, "id", None) or id(sent))
                if message_id not in self._seen:
                    self._seen[message_id] = _from_ses(message_id, sent, now)
            for message_id, (phone, text) in list(sns.sms_messages.items()):
                if message_id not in self._seen:
                    self._seen[message_id] = OutgoingMessage(
                        id=message_id,
                        channel="sms",
                        to=phone,
                        subject=None,
                        text=text,
                        html=None,
                        sent_at=now,
                    )

    def messages(self) -> list[OutgoingMessage]:
        self.observe()
        with self._lock:
            return list(self._seen.values())

    def clear(self) -> None:
        """Forget every message, in moto too (tests start from an empty outbox)."""
        ses = ses_backends[self._account_id][self._region]
        sns = sns_backends[self._account_id][self._region]
        with self._lock:
            ses.sent_messages.clear()
            sns.sms_messages.clear()
            objects = getattr(sns, "sms_message_objects", None)
            if isinstance(objects, dict):
                objects.clear()
            self._seen.clear()


def _from_ses(message_id: str, sent: Any, now: datetime) -> OutgoingMessage:
    raw = getattr(sent, "raw_data", None)
    if isinstance(raw, str):
        return parse_raw_email(message_id, raw, now, destinations=list(getattr(sent, "destinations", [])))
    destinations = getattr(sent, "destinations", {}) or {}
    to = _addresses(
        [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])]
        if isinstance(destinations, dict)
        else list(destinations)
    )
    body = getattr(sent, "body", None)
    if body is None:  # a templated e-mail: moto keeps the template's name and data only
        body = f"[template {getattr(sent, 'template', '?')}] {getattr(sent, 'template_data', '')}"
    is_html = isinstance(body, str) and "<" in body and ">" in body and "</" in body
    return OutgoingMessage(
        id=message_id,
        channel="email",
        to=to,
        subject=getattr(sent, "subject", None),
        text=None if is_html else body,
        html=body if is_html else None,
        sent_at=now,
        sender=getattr(sent, "source", None),
    )


def parse_raw_email(
    message_id: str, raw: str, sent_at: datetime, *, destinations: list[str] | None = None
) -> OutgoingMessage:
    """Subject, recipients, text and HTML parts (and attachment names) of a MIME message."""
    parsed = email.message_from_string(raw, _class=EmailMessage, policy=email.policy.default)
    recipients = [str(parsed[h]) for h in ("To", "Cc") if parsed[h] is not None]
    to = _addresses(recipients) or _addresses(destinations or [])
    text: str | None = None
    html: str | None = None
    attachments: list[str] = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if part.get_content_disposition() == "attachment" or (
            content_type not in ("text/plain", "text/html") and part.get_filename()
        ):
            attachments.append(part.get_filename() or content_type)
            continue
        if content_type == "text/plain" and text is None:
            text = str(part.get_content())
        elif content_type == "text/html" and html is None:
            html = str(part.get_content())
    subject = parsed["Subject"]
    return OutgoingMessage(
        id=message_id,
        channel="email",
        to=to,
        subject=str(subject).strip() if subject is not None else None,  # folded headers keep a space
        text=text,
        html=html,
        sent_at=sent_at,
        sender=str(parsed["From"]) if parsed["From"] is not None else None,
        attachments=tuple(attachments),
    )


def _addresses(values: list[str]) -> str:
    """Bare addresses, de-duplicated, comma-separated."""
    seen: list[str] = []
    for _, address in getaddresses(values):
        if address and address not in seen:
            seen.append(address)
    return ", ".join(seen)
