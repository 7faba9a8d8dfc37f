"""What a booking's idempotency record is keyed on: a stable prefix, the verified caller, the client's key.

Powertools' default record key is ``<function name>.<module>.<function>#<hash>``: it changes with the
name the handler module is imported under (each local-stack container imports ``app.py`` under a
name of its own), and it leaves out who is asking. Bookings key it on ``KEY_PREFIX`` instead, and
hash the caller together with the ``Idempotency-Key`` (Powertools' ``event_key_jmespath`` =
``EVENT_KEY``), so:

- one key from one caller is one record in every container, in AWS and locally alike: concurrent
  retries get the first answer or a 409 ``request_in_progress``, never a second booking;
- the same key from another caller (another verification token's subject, or none) is another
  record: it never answers with the first caller's appointment and manage link.

The caller is the verified destination a verification token names (``channel:subject``, SHA-256
hashed, so no phone or e-mail sits in the record's data), or ``anonymous`` without a token; a token
the booker re-verified for the same phone or e-mail is the same caller. A request without a token
reads no secret; an invalid or expired token is refused (401) before any record is written.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final, Protocol

from bookbay.services.verification_tokens import VerifiedIdentity

KEY_PREFIX: Final = "bookbay.booking"
ANONYMOUS: Final = "anonymous"
# The part of a booking attempt ({caller, key, body}) the record key is the hash of.
EVENT_KEY: Final = "[caller, key]"


class TokenVerifier(Protocol):
    def verify(self, token: str, now: datetime | None = None) -> VerifiedIdentity: ...


def caller_of(verification_token: str | None, tokens: TokenVerifier, now: datetime) -> str:
    """Who a booking comes from, for its idempotency record: the hashed verified destination, or
    ``ANONYMOUS`` (no token: nothing is read). Raises InvalidVerificationToken for a bad token."""
    if not verification_token:
        return ANONYMOUS
    identity = tokens.verify(verification_token, now)
    subject = f"{identity.channel}:{identity.destination}"
    return "verified:" + hashlib.sha256(subject.encode("utf-8")).hexdigest()
