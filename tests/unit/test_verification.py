"""Verification codes and tokens: HOTP challenges, destinations, sliding-window arithmetic, token
signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta
from unittest import mock

import jwt
import pyotp
import pytest

from bookbay.domain import verification as v
from bookbay.domain.addresses import masked_street
from bookbay.domain.catalog import Address, ShopSettings
from bookbay.domain.rate_windows import Limit, Window, micros
from bookbay.exceptions import ChannelNotOffered, InvalidVerificationToken, ValidationFailed
from bookbay.services.verification_tokens import VerificationTokens

SECRET = b"unit-test-signing-secret-0123456789abcdef"
NOW = datetime(2026, 11, 23, 15, 4, 30, tzinfo=UTC)


# ---------------------------------------------------------------- codes
KEY = v.derive_key(SECRET, "verification-code")
NONCE = bytes(range(16))


def test_a_code_is_the_rfc_4226_hotp_of_the_challenges_key_and_counter() -> None:
    # pyotp's HOTP as RFC 4226 specifies it: its appendix D test values, for the key it gives
    with mock.patch("bookbay.domain.verification.challenge_key", return_value=b"12345678901234567890"):
        assert [v.challenge_code(KEY, "+15125550100", NONCE, n) for n in range(3)] == [
            "755224",
            "287082",
            "359152",
        ]
    # and the challenge's key is HMAC-SHA256 of the code key over the destination and the nonce
    key = hmac.new(KEY, b"hotp\0+15125550100\0" + NONCE, hashlib.sha256).digest()
    assert v.challenge_key(KEY, "+15125550100", NONCE) == key
    expected = pyotp.HOTP(base64.b32encode(key).decode(), digits=6).at(7)
    assert v.challenge_code(KEY, "+15125550100", NONCE, 7) == expected


def test_a_code_matches_only_its_own_challenge() -> None:
    code = v.challenge_code(KEY, "+15125550100", NONCE, 3)
    assert len(code) == 6 and code.isdigit()
    assert v.code_matches(KEY, "+15125550100", NONCE, 3, code)
    assert not v.code_matches(KEY, "+15125550100", NONCE, 3, f"{(int(code) + 1) % 10**6:06d}")
    assert not v.code_matches(KEY, "+15125550100", NONCE, 4, code)
    assert not v.code_matches(KEY, "+15125550101", NONCE, 3, code)
    assert not v.code_matches(KEY, "+15125550100", bytes(16), 3, code)
    assert not v.code_matches(v.derive_key(b"other", "verification-code"), "+15125550100", NONCE, 3, code)
    assert v.derive_key(SECRET, "verification-code") != v.derive_key(SECRET, "verification-token")


def test_codes_come_from_random_nonces_with_leading_zeros_kept() -> None:
    nonces = {v.new_nonce() for _ in range(200)}
    assert len(nonces) == 200 and {len(n) for n in nonces} == {16}
    codes = {v.challenge_code(KEY, "+15125550100", n, 1) for n in nonces}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 190
    with mock.patch("bookbay.domain.verification.secrets.token_bytes", return_value=NONCE) as drawn:
        assert v.new_nonce() == NONCE
    drawn.assert_called_once_with(16)


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
EDGE = datetime(2026, 11, 23, 15, 10, tzinfo=UTC)  # an edge of the old clock-aligned 10-minute windows


def counted(limit: Limit, times: list[datetime]) -> Window:
    """The window after an event at each of ``times`` took a free slot (in order)."""
    window = Window()
    for moment in times:
        slot = window.free_slot(limit, moment, random.Random(0))
        assert slot is not None, moment
        window = window.taken(slot, moment)
    return window


def test_a_sixth_send_across_an_old_window_edge_within_3_minutes_is_refused() -> None:
    # 5 sends to one phone from 2 minutes before the edge to just before it
    sends = [EDGE - timedelta(minutes=2) + timedelta(seconds=29 * n) for n in range(5)]
    window = counted(v.SENDS, sends)
    sixth = EDGE + timedelta(minutes=1)  # 3 minutes after the first
    assert window.full(v.SENDS, sixth) and window.free_slot(v.SENDS, sixth) is None
    # until the first leaves: 10 minutes after it, to the microsecond
    assert window.retry_after(v.SENDS, sixth) == 420
    leaves = sends[0] + v.SEND_WINDOW
    assert window.full(v.SENDS, leaves - timedelta(microseconds=1))
    assert window.free_slot(v.SENDS, leaves) == window.slots.index(micros(sends[0]))


def test_no_span_of_the_window_ever_holds_more_than_the_limit() -> None:
    # Events as fast as the window lets them, at random times, over an hour: any 10 minutes hold <= 5
    rng = random.Random(14)
    limit, window, moment, taken = v.SENDS, Window(), EDGE, []
    while moment < EDGE + timedelta(hours=1):
        moment += timedelta(seconds=rng.randrange(1, 90), microseconds=rng.randrange(10**6))
        slot = window.free_slot(limit, moment, rng)
        if slot is not None:
            window = window.taken(slot, moment)
            taken.append(moment)
    assert len(taken) > 20
    for i, first in enumerate(taken):
        assert len([t for t in taken[i:] if t < first + limit.per]) <= limit.events
    assert len(window.slots) == limit.events


def test_retry_after_is_whole_seconds_until_the_oldest_counted_event_leaves() -> None:
    limit = Limit("T", 2, timedelta(minutes=10))
    window = counted(limit, [EDGE, EDGE + timedelta(seconds=100)])
    assert window.retry_after(limit, EDGE + timedelta(seconds=200)) == 400
    assert window.retry_after(limit, EDGE + timedelta(seconds=599, milliseconds=1)) == 1  # rounded up
    assert not window.full(limit, EDGE + timedelta(seconds=600))
    assert window.retry_after(limit, EDGE + timedelta(seconds=600)) == 1  # never 0


def test_a_lowered_limit_still_counts_the_events_held_past_it() -> None:
    old = Limit("SMSHOUR", 4, timedelta(hours=1))
    window = counted(old, [EDGE + timedelta(minutes=n) for n in range(4)])
    lowered = Limit("SMSHOUR", 2, timedelta(hours=1))
    later = EDGE + timedelta(minutes=30)
    assert window.full(lowered, later) and window.free_slot(lowered, later) is None
    assert window.retry_after(lowered, later) == (62 - 30) * 60  # 1 left: the 3rd leaves at 62 min
    assert window.free_slot(lowered, EDGE + timedelta(hours=1, minutes=3)) in (0, 1)


def test_a_given_back_slot_is_free_again() -> None:
    limit = Limit("T", 1, timedelta(hours=1))
    window = counted(limit, [EDGE])
    assert window.free_slot(limit, EDGE) is None
    assert Window((0,)).free_slot(limit, EDGE) == 0


def test_the_shops_sms_caps_and_the_channels_offered_while_one_holds() -> None:
    settings = ShopSettings()
    assert (settings.sms_sends_per_hour, settings.sms_sends_per_day) == (60, 300)
    hour, day = v.sms_limits(settings)
    assert (hour.events, hour.per, day.events, day.per) == (60, timedelta(hours=1), 300, timedelta(days=1))
    assert v.offered_channels(settings, sms_capped=False) == ["sms", "email"]
    assert v.offered_channels(settings, sms_capped=True) == ["email"]
    only_sms = ShopSettings(verification_channels=["sms"])
    assert v.offered_channels(only_sms, sms_capped=True) == ["sms"]  # the send says to try later
    full = counted(Limit("T", 1, timedelta(days=1)), [EDGE])
    windows = {(hour, "shop"): Window(), (day, "shop"): Window()}
    assert v.sms_cap_reached(settings, "shop", windows, EDGE) is None
    capped = ShopSettings(sms_sends_per_day=1)
    hour, day = v.sms_limits(capped)
    assert v.sms_cap_reached(capped, "shop", {(hour, "shop"): Window(), (day, "shop"): full}, EDGE) == day


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
    assert (v.SENDS.events, v.SENDS.per) == (5, timedelta(minutes=10))
    assert (v.IP_SENDS.events, v.IP_SENDS.per) == (20, timedelta(minutes=10))
    assert (v.SOURCE_FAILURES.events, v.SOURCE_FAILURES.per) == (10, timedelta(hours=1))
    assert (v.FAILURES.events, v.FAILURES.per) == (30, timedelta(hours=1))


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
