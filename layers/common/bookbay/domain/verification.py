"""One-time verification codes: HOTP challenges, destinations and the limits on sends and checks.

A code is an RFC 4226 HOTP value (pyotp's ``HOTP``: HMAC-SHA-1, 6 digits) of a key of its own
challenge: ``HMAC-SHA256(code key, "hotp" NUL destination NUL nonce)``, where the code key is
derived from the Secrets Manager signing secret (``derive_key``) and the nonce is 128 random bits
drawn for each code sent; the counter is the destination's count of codes sent while its code
item lives. Codes are valid 10 minutes, single use, at most 5 checks each (the code item's
conditional writes). What is stored is the challenge, nonce and counter, never the code nor
anything computed from it: a check recomputes the code from them (``HOTP.verify``, a
constant-time comparison). Storing an HMAC of the code, as before, would protect it no better
(both need the secret to test a guess), and the challenge alone holds nothing derived from the
code. The destination appears in keys only as an HMAC too.

Limits are sliding windows (``bookbay.domain.rate_windows``): at most 5 sends to a destination and
20 from a client address in any 10 minutes, and one every 30 seconds; at most 10 wrong codes for
a destination from one client address in any hour (that address is then refused for that
destination only) and 30 from all addresses together; SMS codes at most the shop's
``sms_sends_per_hour`` / ``sms_sends_per_day`` in any 60 minutes / 24 hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bookbay.domain.catalog import Channel, ShopSettings
from bookbay.domain.rate_windows import Limit, Window
from bookbay.exceptions import ChannelNotOffered, ValidationFailed
from bookbay.types import normalize_email, normalize_phone, phone_region

if TYPE_CHECKING:
    import pyotp

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_CHECKS_PER_CODE = 5
NONCE_BYTES = 16
SEND_WINDOW = timedelta(minutes=10)
MAX_SENDS_PER_DESTINATION = 5
RESEND_COOLDOWN = timedelta(seconds=30)
MAX_SENDS_PER_IP = 20
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_SOURCE = 10  # wrong codes for one destination from one client address
MAX_FAILURES_PER_DESTINATION = 30  # wrong codes for one destination from all addresses together
SMS_HOUR = timedelta(hours=1)
SMS_DAY = timedelta(days=1)

SENDS = Limit("SEND", MAX_SENDS_PER_DESTINATION, SEND_WINDOW)  # subject: the destination's HMAC
IP_SENDS = Limit("IP", MAX_SENDS_PER_IP, SEND_WINDOW)  # subject: the client address's HMAC
SOURCE_FAILURES = Limit("FAILSRC", MAX_FAILURES_PER_SOURCE, FAILURE_WINDOW)  # source_subject()
FAILURES = Limit("FAIL", MAX_FAILURES_PER_DESTINATION, FAILURE_WINDOW)  # the destination's HMAC


def sms_limits(settings: ShopSettings) -> tuple[Limit, Limit]:
    """The shop's caps on SMS codes (subject: the shop id): per 60 minutes and per 24 hours."""
    return (
        Limit("SMSHOUR", settings.sms_sends_per_hour, SMS_HOUR),
        Limit("SMSDAY", settings.sms_sends_per_day, SMS_DAY),
    )


@dataclass(frozen=True)
class Challenge:
    """What is stored of a code sent: the nonce of its key and its HOTP counter."""

    nonce: bytes
    counter: int


def sms_subjects(settings: ShopSettings, shop_id: str) -> list[tuple[Limit, str]]:
    """The windows of the shop's SMS caps, to read."""
    return [(limit, shop_id) for limit in sms_limits(settings)]


def sms_cap_reached(
    settings: ShopSettings, shop_id: str, windows: Mapping[tuple[Limit, str], Window], now: datetime
) -> Limit | None:
    """The shop's SMS cap that is full at ``now`` (None: SMS codes may go), from the windows of
    ``sms_subjects``."""
    return next((limit for limit in sms_limits(settings) if windows[limit, shop_id].full(limit, now)), None)


def new_nonce() -> bytes:
    """A challenge's nonce, from the CSPRNG."""
    return secrets.token_bytes(NONCE_BYTES)


def challenge_key(code_key: bytes, destination: str, nonce: bytes) -> bytes:
    """The HOTP key of one challenge: bound to the secret, the destination and the nonce."""
    return hmac.new(code_key, b"hotp\0" + destination.encode() + b"\0" + nonce, hashlib.sha256).digest()


def _hotp(code_key: bytes, destination: str, nonce: bytes) -> pyotp.HOTP:
    import pyotp  # only sends and checks need it (the other functions' cold start)

    secret = base64.b32encode(challenge_key(code_key, destination, nonce)).decode("ascii")
    return pyotp.HOTP(secret, digits=CODE_DIGITS)


def challenge_code(code_key: bytes, destination: str, nonce: bytes, counter: int) -> str:
    """The code of a challenge: 6 digits, leading zeros kept."""
    return _hotp(code_key, destination, nonce).at(counter)


def code_matches(code_key: bytes, destination: str, nonce: bytes, counter: int, code: str) -> bool:
    """``code`` is the challenge's code (compared in constant time)."""
    return _hotp(code_key, destination, nonce).verify(code, counter)


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so the token key and the code key are never the same bytes."""
    return hmac.new(secret, f"bookbay/{purpose}".encode(), hashlib.sha256).digest()


def destination_digest(key: bytes, destination: str) -> str:
    """The HMAC that stands for a normalized destination in keys (never the destination itself)."""
    return hmac.new(key, f"destination\0{destination}".encode(), hashlib.sha256).hexdigest()


def ip_digest(key: bytes, ip: str) -> str:
    return hmac.new(key, f"ip\0{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def source_subject(destination: str, ip: str) -> str:
    """The subject of a destination's wrong codes from one client address (both as HMACs)."""
    return f"{destination}#{ip}"


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
    if channel == "sms" and phone_region(destination) not in settings.sms_countries:
        raise ChannelNotOffered("This shop does not send text messages to this country.")


def offered_channels(settings: ShopSettings, sms_capped: bool) -> list[Channel]:
    """The channels codes are offered over now: while the shop's SMS cap holds, not SMS (unless
    it is the only one: then the send answers ``sms_unavailable`` until the cap lifts)."""
    channels = list(settings.verification_channels)
    if sms_capped and "sms" in channels and len(channels) > 1:
        channels.remove("sms")
    return channels


def cooldown_left(sent_at: datetime, now: datetime) -> int:
    """Seconds before another code may be sent to a destination (0: now)."""
    left = (sent_at + RESEND_COOLDOWN - now).total_seconds()
    return 0 if left <= 0 else int(left + 0.999)


def code_message(shop_name: str, code: str) -> str:
    return f"{code} is your {shop_name} verification code. It expires in {CODE_TTL.seconds // 60} minutes."
