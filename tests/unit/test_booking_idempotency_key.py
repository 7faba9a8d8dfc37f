"""The booking's idempotency record key: who the caller is, from the verification token alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbay.api.idempotency import ANONYMOUS, caller_of
from bookbay.exceptions import InvalidVerificationToken
from bookbay.services.verification_tokens import VerificationTokens

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
PHONE = "+15125550123"


def unread() -> bytes:
    raise AssertionError("the signing secret was read")


def test_no_token_is_anonymous_and_reads_no_secret() -> None:
    assert caller_of(None, VerificationTokens(unread), NOW) == ANONYMOUS
    assert caller_of("", VerificationTokens(unread), NOW) == ANONYMOUS


def test_the_caller_is_the_hashed_verified_destination() -> None:
    tokens = VerificationTokens(lambda: b"k" * 32)
    first = caller_of(tokens.issue(PHONE, "sms", None, NOW), tokens, NOW)
    # A later token for the same phone, now naming its customer, is the same caller
    later = tokens.issue(PHONE, "sms", "cust-1", NOW + timedelta(minutes=5))
    assert caller_of(later, tokens, NOW + timedelta(minutes=6)) == first
    # Another phone, or the same person's e-mail, is another caller
    assert caller_of(tokens.issue("+15125550124", "sms", None, NOW), tokens, NOW) != first
    assert caller_of(tokens.issue("dana@example.com", "email", None, NOW), tokens, NOW) != first
    assert first != ANONYMOUS and PHONE not in first and "5125550123" not in first


def test_a_bad_or_expired_token_is_refused() -> None:
    tokens = VerificationTokens(lambda: b"k" * 32)
    with pytest.raises(InvalidVerificationToken):
        caller_of("not-a-token", tokens, NOW)
    with pytest.raises(InvalidVerificationToken):
        caller_of(tokens.issue(PHONE, "sms", None, NOW), tokens, NOW + timedelta(hours=1))
