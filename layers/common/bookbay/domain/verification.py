"""One-time verification codes: generation, HMAC storage form, destinations and limit arithmetic.

Codes are 6 digits from ``secrets``, valid 10 minutes, single use, at most 5 checks each. Only an
HMAC of the code (keyed by the signing secret, bound to the destination) is ever stored, and the
destination itself appears in keys only as an HMAC too. Limits are fixed windows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import phonenumbers

from bookbay.domain.catalog import Channel, ShopSettings
from bookbay.exceptions import ChannelNotOffered, ValidationFailed
from bookbay.types import normalize_email, normalize_phone

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_CHECKS_PER_CODE = 5
SEND_WINDOW = timedelta(minutes=10)
MAX_SENDS_PER_DESTINATION = 5
RESEND_COOLDOWN = timedelta(seconds=30)
MAX_SENDS_PER_IP = 20
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_DESTINATION = 10  # wrong codes per destination, across resends

RateKind = Literal["SEND", "IP", "FAIL"]


def new_code() -> str:
    """A 6-digit code from the CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so the token key and the code-hash key are never the same bytes."""
    return hmac.new(secret, f"bookbay/{purpose}".encode(), hashlib.sha256).digest()


def destination_digest(key: bytes, destination: str) -> str:
    """The HMAC that stands for a normalized destination in keys (never the destination itself)."""
    return hmac.new(key, f"destination\0{destination}".encode(), hashlib.sha256).hexdigest()


def code_digest(key: bytes, destination: str, code: str) -> str:
    """The stored form of ``code`` sent to ``destination``."""
    return hmac.new(key, f"code\0{destination}\0{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(key: bytes, destination: str, code: str, stored: str) -> bool:
    return hmac.compare_digest(code_digest(key, destination, code), stored)


def ip_digest(key: bytes, ip: str) -> str:
    return hmac.new(key, f"ip\0{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def channel_of(destination: str) -> Channel:
    return "email" if "@" in destination else "sms"


def normalize_destination(channel: Channel, to: str) -> str:
    """E.164 for SMS, the normalized address for e-mail; ValidationFailed (422) otherwise."""
    try:
        return normalize_phone(to) if channel == "sms" else normalize_email(to)
    except ValueError as exc:
        what = "phone number" if channel == "sms" else "e-mail address"
        raise ValidationFailed(
            f"Not a valid {what}.", details=[{"field": "body.to", "message": f"not a valid {what}"}]
        ) from exc


def normalize_any(to: str) -> str:
    """A destination as a check names it (an e-mail if it has an @, else a phone)."""
    return normalize_destination("email" if "@" in to else "sms", to)


def check_channel(settings: ShopSettings, channel: Channel, destination: str) -> None:
    """The shop sends codes over ``channel``, and SMS only to its allowed countries."""
    if channel not in settings.verification_channels:
        raise ChannelNotOffered(f"This shop does not send verification codes by {channel}.")
    if channel == "sms":
        region = phonenumbers.region_code_for_number(phonenumbers.parse(destination))
        if region not in settings.sms_countries:
            raise ChannelNotOffered("This shop does not send text messages to this country.")


@dataclass(frozen=True)
class Window:
    """A fixed window: [start, start + length)."""

    start: datetime
    length: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.length

    @property
    def key(self) -> int:
        return int(self.start.timestamp())

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1): a Retry-After."""
        return max(1, int((self.end - now).total_seconds() + 0.999))


def window_of(now: datetime, length: timedelta) -> Window:
    """The fixed window of ``length`` that ``now`` falls in (aligned on the epoch)."""
    seconds = int(length.total_seconds())
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    return Window(datetime.fromtimestamp(start, tz=now.tzinfo), length)


def cooldown_left(sent_at: datetime, now: datetime) -> int:
    """Seconds before another code may be sent to a destination (0: now)."""
    left = (sent_at + RESEND_COOLDOWN - now).total_seconds()
    return 0 if left <= 0 else int(left + 0.999)


def code_message(shop_name: str, code: str) -> str:
    return f"{code} is your {shop_name} verification code. It expires in {CODE_TTL.seconds // 60} minutes."
