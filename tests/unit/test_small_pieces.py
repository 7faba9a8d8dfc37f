"""Geo, privacy masks, config loading, error mapping, message rules, MIME building."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from pydantic import ValidationError

from bookbay import exceptions as exc
from bookbay.adapters.email import Email, build_mime
from bookbay.adapters.scheduler import at_expression
from bookbay.api.auth import parse_groups
from bookbay.api.resolver import status_for
from bookbay.config import BaseConfig, ConfigError, OutboxSenderConfig
from bookbay.domain.catalog import Coordinates
from bookbay.domain.messages import RETRY_BACKOFF, OutboundMessage, next_attempt_delay
from bookbay.geo import distance_miles, zip_centroid
from bookbay.privacy import mask_contact, mask_email, mask_phone


def test_zip_centroids_and_distances() -> None:
    austin = zip_centroid("78701")
    assert austin is not None and austin.lat == pytest.approx(30.27, abs=0.05)
    assert zip_centroid("00000") is None
    assert zip_centroid("7870") is None
    phoenix = Coordinates(lat=33.4484, lon=-112.0740)
    assert distance_miles(austin, phoenix) == pytest.approx(870, rel=0.03)
    assert distance_miles(austin, austin) == 0


def test_masks_never_show_the_whole_contact() -> None:
    assert mask_phone("+15125550100") == "***00"
    assert "5550100" not in mask_contact("+15125550100")
    assert mask_email("pat.customer@example.com") == "p***@example.com"
    assert mask_contact("pat@example.com") == "p***@example.com"
    assert mask_email("nonsense") == "***"


def test_config_reads_the_environment_and_names_what_is_missing() -> None:
    base = {"TABLE_NAME": "t", "PUBLIC_BASE_URL": "https://book.example.com"}
    config = BaseConfig.from_env({**base, "SHOP_NAME": "Shop", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert (config.table_name, config.region, config.catalog_cache_seconds) == ("t", "eu-west-1", 30.0)
    with pytest.raises(ConfigError) as caught:
        OutboxSenderConfig.from_env({"TABLE_NAME": "t"})
    missing = ["SHOP_NAME", "SENDER_EMAIL", "SCHEDULE_GROUP", "PUBLIC_BASE_URL"]
    assert all(name in str(caught.value) for name in missing)
    with pytest.raises(ConfigError, match="CATALOG_CACHE_SECONDS"):
        BaseConfig.from_env({**base, "SHOP_NAME": "S", "CATALOG_CACHE_SECONDS": "-1"})


def test_domain_errors_map_to_statuses_by_class() -> None:
    assert status_for(exc.LocationNotFound("x")) == 404
    assert status_for(exc.UnknownZip("x")) == 422
    assert status_for(exc.StaleWrite("x")) == 409
    assert status_for(exc.ShopNotConfigured("x")) == 503
    assert status_for(exc.Unauthorized("x")) == 401
    assert status_for(exc.DomainError("x")) == 400
    assert exc.LocationNotFound("x").code == "location_not_found"


def test_cognito_groups_in_every_shape() -> None:
    assert parse_groups("staff") == {"staff"}
    assert parse_groups("staff,admin") == {"staff", "admin"}
    assert parse_groups("[staff admin]") == {"staff", "admin"}
    assert parse_groups(["staff"]) == {"staff"}
    assert parse_groups(None) == frozenset()


def test_outbound_message_rules_and_backoff() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with pytest.raises(ValidationError, match="subject"):
        OutboundMessage(id="m-00000001", channel="email", to="a@example.com", text="hi", created_at=now)
    with pytest.raises(ValidationError, match="SMS"):
        OutboundMessage(id="m-00000001", channel="sms", to="+15125550100", text="x" * 1601, created_at=now)
    assert next_attempt_delay(1) == RETRY_BACKOFF[0]
    assert next_attempt_delay(99) == RETRY_BACKOFF[-1]
    assert [next_attempt_delay(n) for n in (1, 2, 3)] == sorted(next_attempt_delay(n) for n in (1, 2, 3))


def test_schedules_are_expressed_in_utc() -> None:
    chicago = datetime(2027, 3, 14, 9, 0, tzinfo=UTC) - timedelta(hours=5)
    assert at_expression(chicago) == "at(2027-03-14T04:00:00)"
    with pytest.raises(ValueError, match="timezone-aware"):
        at_expression(datetime(2027, 3, 14, 9, 0))  # noqa: DTZ001


def test_mime_has_text_and_html_parts_and_the_shop_as_sender() -> None:
    raw = build_mime(
        Email(to="pat@example.com", subject="Booked ✓", text="plain", html="<p>rich</p>"),
        "bookings@shop.example.com",
        "Demo Auto",
    )
    parsed: Message = email.message_from_bytes(raw)
    assert parsed["From"] == "Demo Auto <bookings@shop.example.com>"
    assert str(email.header.make_header(email.header.decode_header(parsed["Subject"]))) == "Booked ✓"
    parts: dict[str, Any] = {part.get_content_type(): part.get_payload(decode=True) for part in parsed.walk()}
    assert parts["text/plain"].strip() == b"plain"
    assert parts["text/html"].strip() == b"<p>rich</p>"
