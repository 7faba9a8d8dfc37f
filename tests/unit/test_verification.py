"""Verification codes and tokens: generation, HMAC storage form, limit arithmetic, token signing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import jwt
import pytest

from bookbay.domain import verification as v
from bookbay.domain.addresses import masked_street
from bookbay.domain.catalog import Address, ShopSettings
from bookbay.exceptions import ChannelNotOffered, InvalidVerificationToken, ValidationFailed
from bookbay.services.verification_tokens import VerificationTokens

SECRET = b"unit-test-signing-secret-0123456789abcdef"
NOW = datetime(2026, 11, 23, 15, 4, 30, tzinfo=UTC)


# ---------------------------------------------------------------- codes
def test_codes_are_six_digits_from_secrets_with_leading_zeros_kept() -> None:
    with mock.patch("bookbay.domain.verification.secrets.randbelow", return_value=42) as randbelow:
        assert v.new_code() == "000042"
    randbelow.assert_called_once_with(1_000_000)
    codes = {v.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150


def test_the_stored_form_is_an_hmac_bound_to_key_destination_and_code() -> None:
    key = v.derive_key(SECRET, "verification-code")
    stored = v.code_digest(key, "+15125550100", "123456")
    assert "123456" not in stored and len(stored) == 64
    assert v.code_matches(key, "+15125550100", "123456", stored)
    assert not v.code_matches(key, "+15125550100", "123457", stored)
    assert not v.code_matches(key, "+15125550101", "123456", stored)
    assert not v.code_matches(v.derive_key(b"other", "verification-code"), "+15125550100", "123456", stored)
    assert v.derive_key(SECRET, "verification-code") != v.derive_key(SECRET, "verification-token")


def test_a_destination_is_keyed_by_its_hmac_never_itself() -> None:
    key = v.derive_key(SECRET, "verification-code")
    digest = v.destination_digest(key, "pat@example.com")
    assert "pat" not in digest and digest == v.destination_digest(key, "pat@example.com")
    assert digest != v.destination_digest(key, "pam@example.com")


def test_destinations_are_normalized_and_bad_ones_refused() -> None:
    assert v.normalize_destination("sms", "(512) 555-0100") == "+15125550100"
    assert v.normalize_destination("email", "Pat@Example.COM") == "pat@example.com"
    assert v.normalize_any(" +1 512 555 0100") == "+15125550100"
    with pytest.raises(ValidationFailed):
        v.normalize_destination("sms", "pat@example.com")
    with pytest.raises(ValidationFailed):
        v.normalize_destination("email", "+15125550100")


def test_sms_only_to_allowed_countries_and_only_offered_channels() -> None:
    settings = ShopSettings(sms_countries=["US", "CA"], verification_channels=["sms", "email"])
    v.check_channel(settings, "sms", "+15125550100")
    v.check_channel(settings, "sms", "+14165550100")  # Toronto
    with pytest.raises(ChannelNotOffered):
        v.check_channel(settings, "sms", "+442079460958")
    with pytest.raises(ChannelNotOffered):
        v.check_channel(ShopSettings(verification_channels=["email"]), "sms", "+15125550100")
    v.check_channel(ShopSettings(verification_channels=["email"]), "email", "pat@example.com")


def test_the_message_names_the_code_the_shop_and_the_expiry() -> None:
    assert v.code_message("Demo Auto", "012345") == (
        "012345 is your Demo Auto verification code. It expires in 10 minutes."
    )


# ---------------------------------------------------------------- limit arithmetic
def test_fixed_windows_are_aligned_and_say_how_long_is_left() -> None:
    window = v.window_of(NOW, v.SEND_WINDOW)
    assert window.start == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 23, 15, 10, tzinfo=UTC)
    assert window.key == int(window.start.timestamp())
    assert window.seconds_left(NOW) == 330
    assert window.seconds_left(NOW + timedelta(seconds=329, milliseconds=500)) == 1
    assert window.seconds_left(window.end) == 1  # never a Retry-After of 0
    assert v.window_of(window.end, v.SEND_WINDOW).start == window.end


def test_the_resend_cooldown_is_30_seconds() -> None:
    assert v.cooldown_left(NOW, NOW) == 30
    assert v.cooldown_left(NOW, NOW + timedelta(seconds=12)) == 18
    assert v.cooldown_left(NOW, NOW + timedelta(seconds=29, milliseconds=100)) == 1
    assert v.cooldown_left(NOW, NOW + timedelta(seconds=30)) == 0
    assert v.cooldown_left(NOW, NOW + timedelta(minutes=5)) == 0


def test_the_limits_are_specs_defaults() -> None:
    assert v.CODE_TTL == v.SEND_WINDOW == timedelta(minutes=10)
    assert v.RESEND_COOLDOWN.total_seconds() == 30
    assert v.MAX_CHECKS_PER_CODE == v.MAX_SENDS_PER_DESTINATION == 5


# ---------------------------------------------------------------- tokens
@pytest.fixture
def tokens() -> VerificationTokens:
    return VerificationTokens(lambda: SECRET)


def test_a_token_carries_the_verified_destination_and_customer(tokens: VerificationTokens) -> None:
    token = tokens.issue("+15125550100", "sms", "cust-1", NOW)
    identity = tokens.verify(token, NOW + timedelta(minutes=29))
    assert (identity.destination, identity.channel, identity.customer_id) == ("+15125550100", "sms", "cust-1")
    assert identity.expires_at == NOW + timedelta(minutes=30)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["typ"] == "verification" and claims["iat"] == int(NOW.timestamp())


def test_a_new_customers_token_has_no_customer(tokens: VerificationTokens) -> None:
    identity = tokens.verify(tokens.issue("pat@example.com", "email", None, NOW), NOW)
    assert identity.customer_id is None and identity.channel == "email"


def test_a_token_expires_after_30_minutes(tokens: VerificationTokens) -> None:
    token = tokens.issue("+15125550100", "sms", None, NOW)
    with pytest.raises(InvalidVerificationToken):
        tokens.verify(token, NOW + timedelta(minutes=30))


def test_tampered_foreign_or_other_tokens_are_refused(tokens: VerificationTokens) -> None:
    token = tokens.issue("+15125550100", "sms", None, NOW)
    other_key = VerificationTokens(lambda: b"another secret")
    claims = jwt.decode(token, options={"verify_signature": False})
    key = v.derive_key(SECRET, "verification-token")
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        other_key.issue("+15125550100", "sms", None, NOW),
        jwt.encode({**claims, "typ": "session"}, key, algorithm="HS256"),
        jwt.encode({k: c for k, c in claims.items() if k != "sub"}, key, algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
        jwt.encode(claims, SECRET, algorithm="HS256"),  # signed with the raw secret, not the token key
        "not-a-token",
    ):
        with pytest.raises(InvalidVerificationToken):
            tokens.verify(bad, NOW)


@pytest.mark.parametrize(
    ("line1", "line2", "masked"),
    [
        ("123 Main St", None, "1** M*** St"),
        ("123 Main Street", None, "1** M*** St"),
        ("4500 North Lamar Boulevard", "Apartment 12", "4*** N L**** Blvd Apt 1*"),
        ("9 W. Oak Ave.", None, "9 W O** Ave"),
    ],
)
def test_a_masked_street_shows_only_first_characters_and_short_street_words(
    line1: str, line2: str | None, masked: str
) -> None:
    address = Address(line1=line1, line2=line2, city="Austin", state="TX", zip="78701")
    assert masked_street(address) == masked
