"""The appointment as an iCalendar file (RFC 5545), for "Add to calendar" on the customer link.

One VEVENT in a ``METHOD:PUBLISH`` calendar, which Google Calendar, Outlook and Apple Calendar
import as a plain event (no invitation, so no ORGANIZER or ATTENDEE):

- ``UID`` is ``<appointment id>@<shop id>.bookbay``: the same for every version of the appointment,
  so importing the file again after a reschedule updates the event instead of adding a second one;
- ``SEQUENCE`` is the appointment's ``sequence`` (one more on every change of time or status);
- ``DTSTART`` / ``DTEND`` / ``DTSTAMP`` are in UTC (``...Z``): no VTIMEZONE needed, and every
  calendar shows the time in its own zone;
- ``LOCATION`` is where the work happens: the store's name and address (an at-home appointment:
  the customer's address); ``SUMMARY`` names the service and the shop; ``DESCRIPTION`` has the
  vehicle, the kind of appointment and the store's phone; ``STATUS`` follows the appointment.

icalendar writes CRLF line endings, folds lines at 75 octets and escapes ``,`` ``;`` ``\\n``.
No link token goes into the file (calendars sync and share events).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bookbay.domain.booking import Appointment, AppointmentStatus
from bookbay.domain.catalog import Address, Location, Service, Shop
from bookbay.types import phone_display

PRODID = "-//Bookbay//Appointment booking//EN"
CalendarStatus = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]
STATUS_BY_APPOINTMENT: dict[AppointmentStatus, CalendarStatus] = {
    "requested": "TENTATIVE",  # the store has not confirmed it yet
    "confirmed": "CONFIRMED",
    "reschedule_requested": "TENTATIVE",  # the customer asked to move it
    "checked_in": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}
TYPE_LABELS = {"in_store": "In store", "online": "Online (video call)", "at_home": "At home"}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def event_uid(appointment_id: str, shop_id: str) -> str:
    """The event's UID: stable for the appointment's whole life (reschedules included)."""
    return f"{appointment_id}@{shop_id}.bookbay"


def calendar_status(status: AppointmentStatus) -> CalendarStatus:
    return STATUS_BY_APPOINTMENT[status]


def _address_text(address: Address) -> str:
    street = f"{address.line1}, {address.line2}" if address.line2 else address.line1
    return f"{street}, {address.city}, {address.state} {address.zip}"


def event_location(location: Location, appointment: Appointment, at_home: Address | None) -> str:
    """Where the appointment happens: the customer's address for an at-home one (when known),
    else the store's name and address."""
    if appointment.appointment_type == "at_home" and at_home is not None:
        return _address_text(at_home)
    return f"{location.name}, {_address_text(location.address)}"


def appointment_calendar(
    *,
    shop: Shop,
    location: Location,
    service: Service,
    appointment: Appointment,
    vehicle_label: str | None,
    at_home: Address | None = None,
    now: datetime,
) -> bytes:
    """The .ics file of ``appointment`` (UTF-8 bytes, CRLF line endings); ``now`` is its DTSTAMP."""
    from icalendar import Calendar, Event  # only the calendar download needs it (~50 ms to import)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", event_uid(appointment.id, shop.id))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("sequence", appointment.sequence)
    event.add("created", appointment.created_at.astimezone(UTC))
    event.add("last-modified", appointment.updated_at.astimezone(UTC))
    event.add("summary", f"{service.name} at {shop.name}")
    event.add("location", event_location(location, appointment, at_home))
    lines = [
        f"Vehicle: {vehicle_label or 'Not given'}",
        f"Service: {service.name} ({service.duration_minutes} min)",
        f"Type: {TYPE_LABELS[appointment.appointment_type]}",
        f"Store: {location.name}, {_address_text(location.address)}",
        f"Questions or changes: call {location.name} at {phone_display(location.phone)}",
    ]
    event.add("description", "\n".join(lines))
    event.add("status", calendar_status(appointment.status))
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics


def calendar_filename(shop: Shop, appointment: Appointment, location: Location) -> str:
    """``<shop id>-<local date>.ics``: only characters safe in a Content-Disposition filename."""
    day = appointment.start.astimezone(ZoneInfo(location.timezone)).date().isoformat()
    return _UNSAFE_FILENAME.sub("-", f"{shop.id}-{day}") + ".ics"
