"""Booking e-mails: recipients per notification_route, times in the location's zone, escaping of
what customers typed, and a text part next to the HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain.booking import Appointment, Contact
from bookbay.domain.catalog import Address, Catalog
from bookbay.exceptions import LocationNotFound, ServiceNotFound
from bookbay.services.notifications import (
    appointment_details,
    booking_messages,
    confirmed_message,
    rescheduled_message,
    store_recipient,
)
from bookbay.shopfile import read_shop_file
from bookbay.templates import day_label, long_when, short_when, time_of_day
from bookbay.types import phone_display

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
MANAGE = "https://book.example.com/c/customer-token-0123456789"
STAFF = "https://book.example.com/s/staff-token-0123456789abc"
HOME = Address(line1="1100 S Lamar Blvd", line2="Apt 4 & 5", city="Austin", state="TX", zip="78704")


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")


def with_settings(catalog: Catalog, **changes: Any) -> Catalog:
    settings = catalog.shop.settings.model_copy(update=changes)
    return catalog.model_copy(update={"shop": catalog.shop.model_copy(update={"settings": settings})})


def appointment(
    *,
    start: datetime | None = None,
    location_id: str = "austin-downtown",
    status: str = "requested",
    appointment_type: str = "in_store",
    first_name: str = "Pat",
    notes: str | None = "Please check the brakes",
) -> Appointment:
    start = start or datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
    return Appointment.model_validate(
        {
            "id": "appt-0001",
            "status": status,
            "location_id": location_id,
            "service_id": "oil-change",
            "appointment_type": appointment_type,
            "start": start,
            "end": start.replace(minute=30),
            "slot_starts": [start.astimezone(UTC)],
            "customer_id": "cust-0001",
            "vehicle_id": "veh-0001",
            "contact": Contact(
                first_name=first_name, last_name="Customer", phone="+15125550123", email="pat@example.com"
            ),
            "notes": notes,
            "source": "google",
            "created_at": NOW,
            "updated_at": NOW,
        }
    )


def messages(catalog: Catalog, appt: Appointment, address: Address | None = None) -> tuple[Any, Any]:
    customer, store = booking_messages(
        catalog,
        appt,
        vehicle_label="2019 Honda Civic",
        manage_url=MANAGE,
        staff_url=STAFF,
        now=NOW,
        address=address,
    )
    return customer, store


# ------------------------------------------------------------------------------ formats
def test_time_formats_are_in_the_zone_of_the_time() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
    assert long_when(start) == "Tuesday, December 1, 2026 at 9:00 AM CST"
    assert short_when(start) == "Tue, Dec 1, 9:00 AM CST"
    assert long_when(datetime(2027, 7, 6, 13, 5, tzinfo=CHICAGO)) == "Tuesday, July 6, 2027 at 1:05 PM CDT"
    assert long_when(datetime(2027, 7, 6, 0, 30, tzinfo=PHOENIX)) == "Tuesday, July 6, 2027 at 12:30 AM MST"
    assert (day_label(start), time_of_day(start.replace(hour=12))) == ("Tuesday, December 1", "12:00 PM")
    assert phone_display("+15125550123") == "+1 512-555-0123"
    assert phone_display("not a phone") == "not a phone"


# ------------------------------------------------------------------------------ recipients
@pytest.mark.parametrize(
    ("route", "salesperson", "expected"),
    [
        ("hq", "maria.advisor@demo-auto.example.com", "service-hq@demo-auto.example.com"),
        ("store", "maria.advisor@demo-auto.example.com", "austin@demo-auto.example.com"),
        ("salesperson", "maria.advisor@demo-auto.example.com", "maria.advisor@demo-auto.example.com"),
        ("salesperson", None, "austin@demo-auto.example.com"),  # no salesperson: the store
    ],
)
def test_the_store_notification_goes_where_the_route_says(
    demo: Catalog, route: str, salesperson: str | None, expected: str
) -> None:
    catalog = with_settings(demo, notification_route=route)
    austin = catalog.locations[0].model_copy(update={"salesperson_email": salesperson})
    catalog = catalog.model_copy(update={"locations": [austin, *catalog.locations[1:]]})
    customer, store = messages(catalog, appointment())
    assert store.to == expected == store_recipient(catalog, austin)
    assert customer.to == "pat@example.com"


# ------------------------------------------------------------------------------ the customer's e-mail
def test_the_customer_is_told_the_request_was_received_with_the_manage_link(demo: Catalog) -> None:
    customer, _ = messages(demo, appointment())
    assert customer.channel == "email" and customer.html and customer.text
    assert customer.subject == (
        "We received your appointment request for Tue, Dec 1, 9:00 AM CST - Bookbay Demo Auto"
    )
    for part in (customer.text, customer.html):
        assert "We received your appointment request" in part
        assert "a service advisor will confirm" in part.lower()
        for detail in (
            "Bookbay Demo Auto",
            "Austin Downtown",
            "801 Congress Ave",
            "Oil change",
            "2019 Honda Civic",
            "Tuesday, December 1, 2026 at 9:00 AM CST",
            MANAGE,
        ):
            assert detail in part, detail
    assert customer.reference == "appointment:appt-0001" and customer.created_at == NOW


def test_in_instant_mode_the_customer_is_told_it_is_confirmed(demo: Catalog) -> None:
    customer, store = messages(with_settings(demo, booking_mode="instant"), appointment(status="confirmed"))
    assert customer.subject is not None and customer.subject.startswith("Your appointment is confirmed")
    assert "Your appointment is confirmed" in customer.html and "will confirm" not in customer.text
    assert store.subject is not None and store.subject.startswith("New appointment:")
    assert ">Confirm</a>" not in (store.html or "") and ">Reschedule</a>" in (store.html or "")


def test_a_phoenix_appointment_is_in_mountain_standard_time(demo: Catalog) -> None:
    start = datetime(2027, 7, 6, 9, 0, tzinfo=PHOENIX)  # summer: Phoenix keeps MST
    customer, store = messages(demo, appointment(start=start, location_id="phoenix-camelback"))
    assert "Tuesday, July 6, 2027 at 9:00 AM MST" in customer.text
    assert "Tuesday, July 6, 2027 at 9:00 AM MST" in store.html
    assert store.to == "phoenix@demo-auto.example.com"


def test_times_given_in_utc_are_shown_in_the_location_zone(demo: Catalog) -> None:
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    customer, _ = messages(demo, appointment(start=start))
    assert "Tuesday, December 1, 2026 at 9:00 AM CST" in customer.text


def test_confirmed_and_rescheduled_messages(demo: Catalog) -> None:
    appt = appointment(status="confirmed")
    confirmed = confirmed_message(demo, appt, vehicle_label=None, manage_url=MANAGE, now=NOW)
    assert confirmed.subject == "Your appointment is confirmed: Tue, Dec 1, 9:00 AM CST - Bookbay Demo Auto"
    assert "Vehicle:  Not given" in confirmed.text and MANAGE in (confirmed.html or "")
    moved = appt.model_copy(
        update={
            "start": datetime(2026, 12, 2, 14, 0, tzinfo=CHICAGO),
            "end": datetime(2026, 12, 2, 14, 30, tzinfo=CHICAGO),
        }
    )
    rescheduled = rescheduled_message(
        demo,
        moved,
        previous_start=appt.start.astimezone(UTC),
        vehicle_label="2019 Honda Civic",
        manage_url=None,
        now=NOW,
    )
    assert rescheduled.subject is not None and rescheduled.subject.startswith(
        "Your appointment has been moved to Wed, Dec 2, 2:00 PM CST"
    )
    for part in (rescheduled.text, rescheduled.html or ""):
        assert "Wednesday, December 2, 2026 at 2:00 PM CST" in part
        assert "(it was Tuesday, December 1, 2026 at 9:00 AM CST)" in part
    assert "manage" not in rescheduled.text.lower()  # no link given, none shown
    assert len({confirmed.id, rescheduled.id}) == 2


# ------------------------------------------------------------------------------ the store's e-mail
def test_the_store_gets_the_customer_and_confirm_and_reschedule_links(demo: Catalog) -> None:
    _, store = messages(demo, appointment(appointment_type="at_home"), address=HOME)
    assert store.subject == (
        "Appointment request: Oil change, Tue, Dec 1, 9:00 AM CST, Austin Downtown - Pat Customer"
    )
    assert f'href="{STAFF}"' in store.html and f'href="{STAFF}#reschedule"' in store.html
    for part in (store.text, store.html):
        for detail in (
            "Pat Customer",
            "+1 512-555-0123",
            "pat@example.com",
            "At home",
            "1100 S Lamar Blvd",
            "Please check the brakes",
            "google",
            "2019 Honda Civic",
            "Oil change",
            "Tuesday, December 1, 2026 at 9:00 AM CST",
            STAFF,
        ):
            assert detail in part, detail
    assert "Apt 4 &amp; 5" in store.html and "Apt 4 & 5" in store.text


def test_an_at_home_address_is_left_out_of_other_appointment_types(demo: Catalog) -> None:
    customer, store = messages(demo, appointment(appointment_type="in_store"), address=HOME)
    assert "Lamar" not in customer.text + store.text + store.html


def test_what_customers_typed_is_escaped_in_html_and_kept_in_text(demo: Catalog) -> None:
    appt = appointment(first_name="<img src=x onerror=alert(1)>", notes="<script>alert('x')</script>\nline 2")
    customer, store = messages(demo, appt)
    for html in (customer.html or "", store.html or ""):
        assert "<script" not in html and "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in (store.html or "")
    assert "<script>alert('x')</script>\nline 2" in store.text
    assert "<img src=x onerror=alert(1)>" in customer.text


def test_long_subjects_are_cut(demo: Catalog) -> None:
    austin = demo.locations[0].model_copy(update={"name": "L" * 120})
    catalog = demo.model_copy(update={"locations": [austin, *demo.locations[1:]]})
    _, store = messages(catalog, appointment(first_name="P" * 60))
    assert store.subject is not None and len(store.subject) == 200 and store.subject.endswith("...")


def test_a_location_or_service_no_longer_in_the_catalog_is_an_error(demo: Catalog) -> None:
    with pytest.raises(LocationNotFound):
        appointment_details(
            demo, appointment().model_copy(update={"location_id": "gone"}), vehicle_label=None, address=None
        )
    with pytest.raises(ServiceNotFound):
        appointment_details(
            demo, appointment().model_copy(update={"service_id": "gone"}), vehicle_label=None, address=None
        )
