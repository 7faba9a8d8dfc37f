"""Appointments written straight into the table, as a booking leaves them (for tests of what
happens after booking): the appointment item, its slot holds, a vehicle, an at-home address, and
the customer and staff link tokens. Slot items can be filled or blocked directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pynamodb.transactions import TransactWrite

from bookbay.domain.availability import required_slots
from bookbay.domain.booking import (
    HOLDS_CAPACITY,
    Appointment,
    AppointmentStatus,
    Contact,
    CustomerAddress,
    Vehicle,
)
from bookbay.domain.catalog import Address, Catalog
from bookbay.domain.ids import new_id
from bookbay.models import keys
from bookbay.models.booking import SlotItem
from bookbay.models.customers import AddressItem, VehicleItem
from bookbay.models.table import BaseItem
from bookbay.repositories.appointments import link_item, new_appointment_item
from bookbay.repositories.slots import hold_slots
from bookbay.services.links import new_link
from bookbay.types import AppointmentType

BASE_URL = "https://book.demo-auto.example.com"
CONTACT = Contact(
    first_name="Pat", last_name="Customer", phone="+15125550123", email="pat.customer@example.com"
)
VEHICLE = Vehicle(id="veh-0001", year=2019, make="Honda", model="Civic")
HOME = CustomerAddress(
    id="adr-0001",
    address=Address(line1="1100 S Lamar Blvd", city="Austin", state="TX", zip="78704"),
    canonical="1100 S LAMAR BLVD|AUSTIN|TX|78704",
)


@dataclass(frozen=True)
class Seeded:
    appointment: Appointment
    staff_token: str
    customer_token: str


def _closed(day: date) -> bool:
    """Whether the demo's stores are closed on ``day``: weekends, US holidays, and the days around
    Thanksgiving and Christmas they close too."""
    import holidays

    return (
        day.weekday() >= 5
        or day in holidays.country_holidays("US", years=day.year)
        or (day.month, day.day) in {(11, 27), (12, 24), (12, 31)}
    )


def past_weekday(days_ago: int) -> date:
    """A date the demo's stores were open, at least ``days_ago`` days before today (UTC)."""
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    while _closed(day):
        day -= timedelta(days=1)
    return day


def next_weekday(after: date, days_ahead: int = 3) -> date:
    """A date the demo's stores are open, at least ``days_ahead`` days after ``after``, whose
    previous open day (the day its reminder goes out) is after ``after`` too: from a Friday, three
    days ahead is a Monday whose reminder would be due today, maybe already past, so it has none."""
    day = after + timedelta(days=days_ahead)
    while _closed(day) or _previous_open_day(day) <= after:
        day += timedelta(days=1)
    return day


def _previous_open_day(day: date) -> date:
    day -= timedelta(days=1)
    while _closed(day):
        day -= timedelta(days=1)
    return day


def local(day: date, hour: int, minute: int = 0, zone: str = "America/Chicago") -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def seed_appointment(
    catalog: Catalog,
    start: datetime,
    *,
    location_id: str = "austin-downtown",
    service_id: str = "oil-change",
    status: AppointmentStatus = "requested",
    appointment_type: AppointmentType = "in_store",
    contact: Contact = CONTACT,
    notes: str | None = "Squeaky brakes too",
    base_url: str = BASE_URL,
) -> Seeded:
    location = catalog.location(location_id)
    service = catalog.service(service_id)
    assert location is not None and service is not None
    slots = required_slots(location, service, catalog.shop.settings, start)
    assert slots is not None, f"{start} is not a start time of {location_id} for {service_id}"
    zone = ZoneInfo(location.timezone)
    now = datetime.now(UTC)
    appointment = Appointment(
        id=new_id(),
        status=status,
        location_id=location_id,
        service_id=service_id,
        appointment_type=appointment_type,
        start=start.astimezone(zone),
        end=(start + timedelta(minutes=service.duration_minutes)).astimezone(zone),
        slot_starts=slots,
        customer_id="cust-0001",
        vehicle_id=VEHICLE.id,
        address_id=HOME.id if appointment_type == "at_home" else None,
        contact=contact,
        notes=notes,
        source="website",
        created_at=now,
        updated_at=now,
    )
    customer_pk = keys.customer_pk(appointment.customer_id)
    VehicleItem(customer_pk, keys.vehicle_sk(VEHICLE.id), body=VEHICLE.model_dump(mode="json")).save()
    if appointment.address_id:
        AddressItem(customer_pk, keys.address_sk(HOME.id), body=HOME.model_dump(mode="json")).save()
    item = new_appointment_item(appointment)
    item.save()  # version 1, as the booking's conditional put leaves it
    if status in HOLDS_CAPACITY:
        with TransactWrite(connection=BaseItem._get_connection().connection) as tx:
            hold_slots(tx, location_id, slots, location.capacity_per_slot)
    staff_url, staff_link = new_link(base_url, "staff", appointment.id, appointment.end)
    customer_url, customer_link = new_link(base_url, "customer", appointment.id, appointment.end)
    link_item(staff_link).save()
    link_item(customer_link).save()
    return Seeded(
        appointment=appointment,
        staff_token=staff_url.rsplit("/", 1)[1],
        customer_token=customer_url.rsplit("/", 1)[1],
    )


def slot_used(location_id: str, start: datetime) -> int:
    try:
        item = SlotItem.get(keys.location_pk(location_id), keys.slot_sk(start), consistent_read=True)
    except SlotItem.DoesNotExist:
        return 0
    return int(item.used or 0)


def fill_slot(location_id: str, start: datetime, used: int, *, blocked: bool = False) -> None:
    SlotItem(keys.location_pk(location_id), keys.slot_sk(start), used=used, blocked=blocked or None).save()
