"""The booking use case (bookbay.services.booking) with in-memory fakes of its storage and messages."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bookbay.domain.addresses import canonical_address
from bookbay.domain.availability import SlotUsage
from bookbay.domain.booking import (
    Appointment,
    CustomerAddress,
    CustomerProfile,
    CustomerSummary,
    PreferredChannel,
    Takeover,
    Vehicle,
    VerifiedVia,
)
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.catalog import Address, Catalog, Channel, HolidaySettings
from bookbay.domain.flags import FlagEntry, FlagHits, FlagKey
from bookbay.domain.ids import stable_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import (
    AppointmentTypeNotOffered,
    BookingNotAvailable,
    CustomerChanged,
    FlagCheckIncomplete,
    InvalidVerificationToken,
    LocationNotFound,
    ServiceNotFound,
    ShopNotConfigured,
    SlotUnavailable,
    ValidationFailed,
    VerificationRequired,
    ZipNotServed,
)
from bookbay.models import keys
from bookbay.repositories.booking import AddressOwner, BookingPlan, CustomerLookup
from bookbay.services.booking import BookingResult, book, checked_address
from bookbay.services.verification_tokens import VerificationTokens
from bookbay.shopfile import read_shop_file

ROOT = Path(__file__).resolve().parents[2]
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 2026-11-23, 09:00 in Austin
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHICAGO)
BASE_URL = "https://book.example.com"
PHONE = "+15125550123"
EMAIL = "dana.rivera@example.com"


def demo_catalog(**settings: Any) -> Catalog:
    """The demo shop, with the holidays the tests expect (US federal)."""
    catalog = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")
    # Bookings without a code unless a test asks for them (the demo shop asks: the product's default)
    pinned = {
        "holidays": HolidaySettings(country="US"),
        "require_verification": False,
    }
    changed = catalog.shop.settings.model_copy(update={**pinned, **settings})
    return catalog.model_copy(update={"shop": catalog.shop.model_copy(update={"settings": changed})})


class FakeCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self.value = catalog

    def catalog(self) -> Catalog:
        return self.value


class FakeStore:
    """Lookups by ("phone" | "email", value); saved parts by (customer id, record id)."""

    def __init__(self) -> None:
        self.lookups: dict[tuple[str, str], CustomerSummary] = {}
        self.profiles: dict[str, CustomerProfile] = {}
        self.address_owners: dict[str, AddressOwner] = {}
        self.parts: dict[tuple[str, str], Vehicle | CustomerAddress] = {}
        self.plans: list[BookingPlan] = []
        self.failures: list[Exception] = []
        self.flag_values: dict[FlagKey, frozenset[FlagEntry]] = {}  # the flags holding each value
        self.lookup_calls = 0
        self.part_calls = 0

    def lookup(
        self,
        phone: str | None,
        email: str | None,
        *,
        verified: str | None = None,
        customer_id: str | None = None,
        address_canonical: str | None = None,
        parts: tuple[str | None, str | None] = (None, None),
        flags: Collection[FlagKey] = (),
    ) -> CustomerLookup:
        self.lookup_calls += 1
        kind = "email" if verified and "@" in verified else "phone"
        vehicle = self.parts.get((customer_id or "", parts[0] or "")) if customer_id else None
        address = self.parts.get((customer_id or "", parts[1] or "")) if customer_id else None
        return CustomerLookup(
            vehicle=vehicle if isinstance(vehicle, Vehicle) else None,
            address=address if isinstance(address, CustomerAddress) else None,
            by_phone=self.lookups.get(("phone", phone or "")),
            by_email=self.lookups.get(("email", email or "")),
            by_verified=self.lookups.get((kind, verified)) if verified else None,
            profile=self.profiles.get(customer_id or ""),
            address_owner=self.address_owners.get(address_canonical or ""),
            flags=FlagHits(frozenset(flags), {k: v for k, v in self.flag_values.items() if k in flags}),
        )

    def customer_summary(self, customer_id: str) -> CustomerSummary | None:
        profile = self.profiles.get(customer_id)
        return profile.summary() if profile else None

    def customer_parts(
        self, customer_id: str, vehicle_id: str | None, address_id: str | None
    ) -> tuple[Vehicle | None, CustomerAddress | None]:
        self.part_calls += 1
        vehicle = self.parts.get((customer_id, vehicle_id or ""))
        address = self.parts.get((customer_id, address_id or ""))
        return (
            vehicle if isinstance(vehicle, Vehicle) else None,
            address if isinstance(address, CustomerAddress) else None,
        )

    def create(self, plan: BookingPlan) -> None:
        self.plans.append(plan)
        if set(plan.flag_checks) & set(self.flag_values):  # the transaction's condition checks
            raise FlagCheckIncomplete("flagged")
        if self.failures:
            raise self.failures.pop(0)

    def remember(self, summary: CustomerSummary, *, phone: bool = True, email: bool = True) -> None:
        if phone and summary.phone:
            self.lookups["phone", summary.phone] = summary
        if email and summary.email:
            self.lookups["email", summary.email] = summary


class FakeUsage:
    def __init__(self, usage: Mapping[datetime, SlotUsage] | None = None) -> None:
        self.value = dict(usage or {})
        self.calls: list[tuple[str, datetime, datetime]] = []

    def usage(self, location_id: str, start_utc: datetime, end_utc: datetime) -> Mapping[datetime, SlotUsage]:
        self.calls.append((location_id, start_utc, end_utc))
        return self.value


class FakeMessages:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self,
        catalog: Catalog,
        appointment: Appointment,
        *,
        vehicle_label: str | None,
        manage_url: str,
        staff_url: str,
        now: datetime,
        address: Address | None = None,
        preferred: PreferredChannel = "email",
    ) -> list[OutboundMessage]:
        self.calls.append(
            {
                "preferred": preferred,
                "appointment": appointment,
                "vehicle_label": vehicle_label,
                "manage_url": manage_url,
                "staff_url": staff_url,
                "address": address,
            }
        )
        return [
            OutboundMessage(
                id=f"message-{appointment.id}",
                channel="email",
                to=appointment.contact.email,
                subject="Request received",
                text="text",
                created_at=now,
            )
        ]


class Harness:
    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = FakeCatalog(catalog or demo_catalog())
        self.store = FakeStore()
        self.usage = FakeUsage()
        self.messages = FakeMessages()
        self.tokens = VerificationTokens(lambda: b"unit-test-signing-key-0123456789")

    def token(
        self,
        destination: str,
        customer_id: str | None = None,
        *,
        vehicle_id: str | None = None,
        via: VerifiedVia = "code",
        now: datetime = NOW,
    ) -> str:
        channel: Channel = "email" if "@" in destination else "sms"
        return self.tokens.issue(destination, channel, customer_id, now, vehicle_id=vehicle_id, via=via)

    def book(
        self, request: BookingRequest, *, token: str | None = None, base_url: str = BASE_URL
    ) -> BookingResult:
        return book(
            request,
            now=NOW,
            catalog_repo=self.catalog,
            booking_repo=self.store,
            availability_repo=self.usage,
            configured_base_url=base_url,
            verification_token=token,
            tokens=self.tokens,
            messages=self.messages,
            new_appointment_id=lambda: "appointment-1",
        )

    @property
    def plan(self) -> BookingPlan:
        assert len(self.store.plans) >= 1
        return self.store.plans[-1]


def booking(**overrides: Any) -> BookingRequest:
    data: dict[str, Any] = {
        "location_id": "austin-downtown",
        "service_id": "oil-change",
        "appointment_type": "in_store",
        "start": TUESDAY_10.isoformat(),
        "customer": {"first_name": "Dana", "last_name": "Rivera", "phone": "(512) 555-0123", "email": EMAIL},
        "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"},
        "source": "web",
    }
    data.update(overrides)
    return BookingRequest.model_validate(data)


AT_HOME_ADDRESS = {
    "line1": "1100 Congress Avenue",
    "line2": "Apt 4",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
}


@pytest.fixture
def h() -> Harness:
    return Harness()


# ------------------------------------------------------------------------------ a new customer
def test_a_new_customer_gets_a_profile_lookups_a_vehicle_and_a_requested_appointment(h: Harness) -> None:
    result = h.book(booking(notes="  Check the   tires  "))

    plan = h.plan
    appointment = result.appointment
    assert appointment == plan.appointment
    assert (appointment.id, appointment.status) == ("appointment-1", "requested")
    assert appointment.start == TUESDAY_10 and appointment.start.utcoffset() == timedelta(hours=-6)
    assert appointment.end == TUESDAY_10 + timedelta(minutes=30)
    assert appointment.slot_starts == [TUESDAY_10.astimezone(UTC)]
    assert appointment.contact.phone == PHONE and appointment.notes == "Check the tires"
    assert plan.capacity_per_slot == 2
    assert plan.new_profile is not None and plan.new_profile.id == appointment.customer_id
    assert (plan.new_profile.phone, plan.new_profile.email, plan.new_profile.source) == (PHONE, EMAIL, "web")
    assert plan.customer == plan.new_profile.summary()
    assert plan.new_lookups == ("phone", "email") and plan.proposed_changes == ()
    assert plan.vehicle is not None and plan.vehicle.id == stable_id(
        appointment.customer_id, "2019|honda|civic"
    )
    assert appointment.vehicle_id == plan.vehicle.id and appointment.address_id is None
    assert plan.address is None
    # Links: from the configured base URL, stored as hashes; the messages get them
    assert result.manage_url.startswith(f"{BASE_URL}/c/")
    assert [link.kind for link in plan.links] == ["customer", "staff"]
    assert all(link.appointment_id == "appointment-1" for link in plan.links)
    assert all(result.manage_url.rsplit("/", 1)[1] not in link.token_hash for link in plan.links)
    (call,) = h.messages.calls
    assert call["manage_url"] == result.manage_url and call["staff_url"].startswith(f"{BASE_URL}/s/")
    assert call["vehicle_label"] == "2019 Honda Civic" and call["address"] is None
    assert [m.id for m in plan.messages] == ["message-appointment-1"]
    assert h.usage.calls == []  # availability is read only to offer alternatives


def test_instant_mode_books_confirmed() -> None:
    h = Harness(demo_catalog(booking_mode="instant"))
    assert h.book(booking()).appointment.status == "confirmed"


def test_a_90_minute_service_holds_three_consecutive_slots(h: Harness) -> None:
    appointment = h.book(booking(service_id="brake-inspection")).appointment
    assert appointment.end == TUESDAY_10 + timedelta(minutes=90)
    assert appointment.slot_starts == [TUESDAY_10.astimezone(UTC) + timedelta(minutes=m) for m in (0, 30, 60)]


def test_the_base_url_is_the_configured_one() -> None:
    h = Harness()
    result = book(
        booking(),
        now=NOW,
        catalog_repo=h.catalog,
        booking_repo=h.store,
        availability_repo=h.usage,
        configured_base_url="https://configured.example.com",
        messages=h.messages,
    )
    assert result.manage_url.startswith("https://configured.example.com/c/")


def test_without_a_configured_base_url_the_shop_is_not_configured() -> None:
    h = Harness()
    with pytest.raises(ShopNotConfigured):
        h.book(booking(), base_url="")
    assert h.store.plans == []


# ------------------------------------------------------------------------------ verification
def test_a_shop_requiring_verification_refuses_bookings_without_a_token() -> None:
    h = Harness(demo_catalog(require_verification=True))
    with pytest.raises(VerificationRequired) as refused:
        h.book(booking())
    assert refused.value.code == "verification_required"
    assert h.store.lookup_calls == 0 and h.store.plans == []


@pytest.mark.parametrize("require", [True, False])
def test_a_bad_or_expired_token_is_refused_whatever_the_setting(require: bool) -> None:
    h = Harness(demo_catalog(require_verification=require))
    expired = h.token(PHONE, now=NOW - timedelta(minutes=31))
    forged = VerificationTokens(lambda: b"another-key-another-key-0123456").issue(PHONE, "sms", None, NOW)
    for token in ("not-a-token", expired, forged):
        with pytest.raises(InvalidVerificationToken):
            h.book(booking(), token=token)
    assert h.store.plans == []


# ------------------------------------------------------------------------------ returning customers
def known(**overrides: Any) -> CustomerSummary:
    data: dict[str, Any] = {
        "customer_id": "customer-1",
        "first_name": "Dana",
        "last_name": "Rivera",
        "phone": PHONE,
        "email": EMAIL,
    }
    data.update(overrides)
    return CustomerSummary.model_validate(data)


def test_a_returning_customer_by_phone_changes_nothing_on_file_and_proposes_the_differences(
    h: Harness,
) -> None:
    h.store.remember(known(email="old@example.com"), email=True)
    h.book(
        booking(customer={"first_name": "danA", "last_name": "Rivera-Lopez", "phone": PHONE, "email": EMAIL})
    )
    plan = h.plan
    assert plan.new_profile is None and plan.customer.customer_id == "customer-1"
    assert plan.appointment.customer_id == "customer-1"
    # The unverified new e-mail is only proposed (a lookup would let it see the profile); names
    # compare without case
    assert plan.new_lookups == ()
    changes = {c.field: (c.current, c.proposed) for c in plan.proposed_changes}
    assert changes == {"last_name": ("Rivera", "Rivera-Lopez"), "email": ("old@example.com", EMAIL)}
    assert all(
        c.customer_id == "customer-1" and c.appointment_id == "appointment-1" and c.status == "pending"
        for c in plan.proposed_changes
    )
    # The vehicle is the customer's (stable id on the customer), written only if absent
    assert plan.vehicle is not None and plan.vehicle.id == stable_id("customer-1", "2019|honda|civic")


def test_a_returning_customer_by_email_gets_the_new_phone_proposed(h: Harness) -> None:
    h.store.remember(known(phone="+15125550999"))
    h.book(booking())
    plan = h.plan
    assert plan.customer.customer_id == "customer-1" and plan.new_profile is None
    assert plan.new_lookups == ()
    assert [(c.field, c.current, c.proposed) for c in plan.proposed_changes] == [
        ("phone", "+15125550999", PHONE)
    ]


def test_phone_wins_and_an_email_of_another_customer_is_not_taken_over(h: Harness) -> None:
    h.store.remember(known(email="dana@work.example.com"))
    h.store.remember(known(customer_id="customer-2", phone="+15125550777", email=EMAIL))
    h.book(booking())
    plan = h.plan
    assert plan.customer.customer_id == "customer-1"
    assert plan.new_lookups == ()  # the e-mail belongs to customer-2: no lookup item for customer-1
    assert [(c.field, c.proposed) for c in plan.proposed_changes] == [("email", EMAIL)]


def test_a_known_email_of_the_same_customer_is_not_proposed_again(h: Harness) -> None:
    summary = known(email="first@example.com")
    h.store.remember(summary)
    h.store.lookups["email", EMAIL] = summary  # a second e-mail added by an earlier booking
    h.book(booking())
    assert h.plan.new_lookups == () and h.plan.proposed_changes == ()


@pytest.mark.parametrize("mode", ["request", "instant"])
@pytest.mark.parametrize("recognized_by", ["phone", "email"])
def test_an_unverified_booking_on_a_do_not_service_customer_is_a_request_for_staff(
    mode: str, recognized_by: str
) -> None:
    # Given a Do Not Service customer, found by the typed phone (or, another phone typed, the e-mail)
    h = Harness(demo_catalog(booking_mode=mode))
    h.store.remember(
        known(do_not_service=True), phone=recognized_by == "phone", email=recognized_by == "email"
    )
    typed = {"first_name": "Dana", "last_name": "Rivera", "phone": "+15125550177", "email": EMAIL}
    # When someone books with it without a verification
    result = h.book(booking() if recognized_by == "phone" else booking(customer=typed))
    # Then it is booked on that customer as a request for staff to review, in instant mode too
    appointment = h.plan.appointment
    assert appointment.customer_id == "customer-1"
    assert (appointment.status, appointment.do_not_service) == ("requested", True)
    assert h.plan.effects == ()  # a request: no reminder until staff confirm
    assert [call["appointment"].status for call in h.messages.calls] == ["requested"]
    assert result.warnings == ("do_not_service",)  # for staff: the public answer never says it


def test_an_unknown_booker_is_not_marked_do_not_service(h: Harness) -> None:
    h.book(booking())
    assert (h.plan.appointment.status, h.plan.appointment.do_not_service) == ("requested", False)
    assert h.plan.new_profile is not None


def test_a_saved_vehicle_is_used_as_it_is_and_not_written_again(h: Harness) -> None:
    h.store.remember(known())
    saved = Vehicle(id="a" * 20, year=2015, make="Ford", model="F-150")
    h.store.parts["customer-1", saved.id] = saved
    h.book(booking(vehicle=None, vehicle_id=saved.id))
    assert h.plan.appointment.vehicle_id == saved.id and h.plan.vehicle is None
    assert h.messages.calls[0]["vehicle_label"] == "2015 Ford F-150"
    assert h.store.part_calls == 1


@pytest.mark.parametrize("returning", [True, False])
def test_an_unknown_saved_vehicle_is_refused(h: Harness, returning: bool) -> None:
    if returning:
        h.store.remember(known())
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(vehicle=None, vehicle_id="b" * 20))
    assert refused.value.details == [
        {"field": "body.vehicle_id", "message": "no such vehicle on the customer's profile"}
    ]
    assert h.store.plans == []


def test_a_concurrent_first_booking_by_the_same_phone_reruns_once_and_finds_the_customer(h: Harness) -> None:
    h.store.failures.append(CustomerChanged("created meanwhile"))
    original_create = h.store.create

    def create_then_remember(plan: BookingPlan) -> None:
        try:
            original_create(plan)
        finally:
            h.store.remember(known(customer_id="customer-9"))

    h.store.create = create_then_remember  # type: ignore[method-assign]
    appointment = h.book(booking()).appointment
    assert h.store.lookup_calls == 2
    assert appointment.customer_id == "customer-9" and h.plan.new_profile is None
    assert appointment.id == "appointment-1"


def test_a_second_customer_race_is_a_conflict(h: Harness) -> None:
    h.store.failures += [CustomerChanged("again"), CustomerChanged("and again")]
    with pytest.raises(CustomerChanged):
        h.book(booking())
    assert h.store.lookup_calls == 2


# ------------------------------------------------------------------------------ what and where
def test_unknown_location_and_service_are_refused(h: Harness) -> None:
    with pytest.raises(LocationNotFound):
        h.book(booking(location_id="nowhere"))
    with pytest.raises(ServiceNotFound):
        h.book(booking(service_id="nothing"))
    assert h.store.plans == []


@pytest.mark.parametrize(
    ("location_id", "service_id", "appointment_type"),
    [
        ("austin-downtown", "oil-change", "online"),  # the service is not offered online
        ("phoenix-camelback", "oil-change", "at_home"),  # the location does not go to homes
        ("austin-downtown", "repair-estimate", "in_store"),  # video calls only
    ],
)
def test_a_type_not_offered_is_refused(
    h: Harness, location_id: str, service_id: str, appointment_type: str
) -> None:
    request = booking(
        location_id=location_id,
        service_id=service_id,
        appointment_type=appointment_type,
        address=AT_HOME_ADDRESS,
    )
    with pytest.raises(AppointmentTypeNotOffered):
        h.book(request)
    assert h.store.plans == []


def test_at_home_needs_an_address_in_a_served_zip(h: Harness) -> None:
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(appointment_type="at_home"))
    assert refused.value.details == [
        {"field": "body.address", "message": "required for at_home appointments"}
    ]
    far = {**AT_HOME_ADDRESS, "line1": "100 Main St", "city": "Round Rock", "zip": "78664"}
    with pytest.raises(ZipNotServed):
        h.book(booking(appointment_type="at_home", address=far))
    assert h.store.plans == []


def test_an_at_home_address_is_stored_canonical_on_the_customer(h: Harness) -> None:
    h.book(booking(appointment_type="at_home", address=AT_HOME_ADDRESS))
    plan = h.plan
    assert plan.address is not None
    canonical = "1100 CONGRESS AVE APT 4|AUSTIN|TX|78701"
    assert plan.address.canonical == canonical
    assert plan.address.id == stable_id(plan.appointment.customer_id, canonical)
    assert plan.appointment.address_id == plan.address.id
    assert h.messages.calls[0]["address"] == Address.model_validate(AT_HOME_ADDRESS)


def test_a_saved_at_home_address_is_checked_against_the_served_zips(h: Harness) -> None:
    h.store.remember(known())
    served = Address(line1="1 Elm St", city="Austin", state="TX", zip="78702")
    unserved = Address(line1="1 Oak St", city="Round Rock", state="TX", zip="78664")
    for record_id, address in (("c" * 20, served), ("d" * 20, unserved)):
        h.store.parts["customer-1", record_id] = CustomerAddress(
            id=record_id, address=address, canonical=canonical_address(address)
        )
    h.book(booking(appointment_type="at_home", address_id="c" * 20))
    assert h.plan.appointment.address_id == "c" * 20 and h.plan.address is None
    with pytest.raises(ZipNotServed):
        h.book(booking(appointment_type="at_home", address_id="d" * 20))
    with pytest.raises(ValidationFailed):
        h.book(booking(appointment_type="at_home", address_id="e" * 20))


def test_an_address_given_for_an_in_store_booking_is_kept_as_the_customers(h: Harness) -> None:
    h.book(booking(address=AT_HOME_ADDRESS))
    assert h.plan.address is not None and h.plan.address.address.line1 == AT_HOME_ADDRESS["line1"]
    assert h.plan.appointment.address_id is None  # the visit is at the shop


def test_an_unusable_address_for_an_in_store_booking_is_refused(h: Harness) -> None:
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(address={**AT_HOME_ADDRESS, "line1": "not an address at all"}))
    assert refused.value.details == [
        {"field": "body.address.line1", "message": "not a street address (number and street)"}
    ]


@pytest.mark.parametrize(
    ("address", "details"),
    [
        ({"line1": "PO Box 12"}, [("body.address.line1", "not a street address (number and street)")]),
        ({"line1": "Somewhere nice"}, [("body.address.line1", "not a street address (number and street)")]),
        ({"zip": "00000"}, [("body.address.zip", "unknown ZIP code")]),
        ({"state": "CA"}, [("body.address.state", "ZIP code 78701 is not in this state")]),
    ],
)
def test_addresses_are_checked_with_usaddress_and_zipcodes(address: dict[str, str], details: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        checked_address(Address.model_validate({**AT_HOME_ADDRESS, **address}))
    assert refused.value.details == [{"field": f, "message": m} for f, m in details]


def test_contact_details_are_validated_by_the_request_model() -> None:
    for customer in (
        {"first_name": "Dana", "last_name": "Rivera", "phone": "12", "email": EMAIL},
        {"first_name": "Dana", "last_name": "Rivera", "phone": PHONE, "email": "dana@"},
        {"first_name": " ", "last_name": "Rivera", "phone": PHONE, "email": EMAIL},
    ):
        with pytest.raises(ValidationError):
            booking(customer=customer)
    with pytest.raises(ValidationError, match="either vehicle_id or vehicle"):
        booking(vehicle_id="a" * 20)
    with pytest.raises(ValidationError, match="either address_id or address"):
        booking(address_id="a" * 20, address=AT_HOME_ADDRESS)
    with pytest.raises(ValidationError):
        booking(start="2026-11-24T10:00:00")  # no UTC offset
    with pytest.raises(ValidationError):
        booking(source="Web Site!")


# ------------------------------------------------------------------------------ when
def alternatives_of(error: SlotUnavailable) -> list[str]:
    return [a["start"] for a in error.alternatives]


@pytest.mark.parametrize(
    ("start", "first_alternative"),
    [
        (TUESDAY_10 + timedelta(minutes=7), "2026-11-24T10:30:00-06:00"),  # not a slot start
        (datetime(2026, 11, 29, 10, 0, tzinfo=CHICAGO), "2026-11-30T07:30:00-06:00"),  # Sunday: closed
        (datetime(2026, 11, 26, 10, 0, tzinfo=CHICAGO), "2026-11-27T07:30:00-06:00"),  # Thanksgiving
        (datetime(2026, 11, 24, 17, 30, tzinfo=CHICAGO), "2026-11-25T07:30:00-06:00"),  # at closing
        (NOW + timedelta(hours=1), "2026-11-23T11:00:00-06:00"),  # inside the 2-hour lead time
        (NOW - timedelta(days=3), "2026-11-23T11:00:00-06:00"),  # in the past
        (NOW + timedelta(days=70), "2026-11-23T11:00:00-06:00"),  # beyond the 60-day horizon
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "2026-11-23T11:00:00-06:00"),
        (datetime(1, 1, 1, 0, 0, tzinfo=UTC), "2026-11-23T11:00:00-06:00"),
    ],
)
def test_a_time_that_cannot_be_booked_is_a_409_with_alternatives(
    h: Harness, start: datetime, first_alternative: str
) -> None:
    with pytest.raises(SlotUnavailable) as refused:
        h.book(booking(start=start.isoformat()))
    error = refused.value
    assert error.code == "slot_unavailable"
    assert len(error.alternatives) == 3 and alternatives_of(error)[0] == first_alternative
    assert error.extra == {"alternatives": error.alternatives}
    assert len(h.usage.calls) == 1  # one usage query for the alternatives
    assert h.store.lookup_calls == 0 and h.store.plans == []


def test_a_slot_taken_meanwhile_is_a_409_with_the_next_free_slots(h: Harness) -> None:
    # Given 10:00 was taken meanwhile, 10:30 is full and 11:00 has one place left
    h.usage.value = {
        TUESDAY_10.astimezone(UTC): SlotUsage(used=2),
        (TUESDAY_10 + timedelta(minutes=30)).astimezone(UTC): SlotUsage(used=2),
        (TUESDAY_10 + timedelta(minutes=60)).astimezone(UTC): SlotUsage(used=1),
    }
    h.store.failures.append(SlotUnavailable("That time is no longer available."))
    with pytest.raises(SlotUnavailable) as refused:
        h.book(booking())
    assert refused.value.alternatives[:2] == [
        {"start": "2026-11-24T11:00:00-06:00", "end": "2026-11-24T11:30:00-06:00", "remaining": 1},
        {"start": "2026-11-24T11:30:00-06:00", "end": "2026-11-24T12:00:00-06:00", "remaining": 2},
    ]
    (location_id, begin, end) = h.usage.calls[0]
    assert location_id == "austin-downtown" and begin == TUESDAY_10
    assert end == datetime(2027, 1, 23, 0, 0, tzinfo=CHICAGO)  # the end of the horizon's last day


def test_the_slot_keys_of_an_appointment_are_its_utc_slot_starts(h: Harness) -> None:
    appointment = h.book(booking(service_id="brake-inspection")).appointment
    assert [keys.slot_sk(s) for s in appointment.slot_starts] == [
        "SLOT#2026-11-24T16:00:00Z",
        "SLOT#2026-11-24T16:30:00Z",
        "SLOT#2026-11-24T17:00:00Z",
    ]


# ------------------------------------------------------------------------------ verified bookers
def profile_of(summary: CustomerSummary) -> CustomerProfile:
    return CustomerProfile(
        id=summary.customer_id,
        first_name=summary.first_name,
        last_name=summary.last_name,
        phone=summary.phone,
        email=summary.email,
        do_not_service=summary.do_not_service,
        source="web",
        created_at=NOW - timedelta(days=90),
    )


def on_file(h: Harness, summary: CustomerSummary) -> None:
    h.store.remember(summary)
    h.store.profiles[summary.customer_id] = profile_of(summary)


def test_a_new_customer_verified_by_sms_gets_the_verified_phone_as_the_profile() -> None:
    h = Harness(demo_catalog(require_verification=True))
    h.book(booking(), token=h.token(PHONE))
    plan = h.plan
    assert plan.new_profile is not None and plan.new_profile.phone == PHONE
    assert plan.new_lookups == ("phone", "email")
    assert plan.appointment.verified_via == "code"


def test_a_new_customer_must_book_with_the_contact_they_verified() -> None:
    h = Harness(demo_catalog(require_verification=True))
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(), token=h.token("+15125550999"))
    assert refused.value.details == [
        {"field": "body.customer.phone", "message": "must be the phone number that was verified"}
    ]
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(), token=h.token("someone.else@example.com"))
    assert refused.value.details is not None and refused.value.details[0]["field"] == "body.customer.email"
    assert h.store.plans == []


def test_a_verified_returning_customer_books_with_nothing_re_entered() -> None:
    h = Harness(demo_catalog(require_verification=True))
    summary = known()
    on_file(h, summary)
    saved = Vehicle(id="b" * 20, year=2018, make="Subaru", model="Outback")
    h.store.parts["customer-1", saved.id] = saved
    request = booking(customer=None, vehicle=None, vehicle_id=saved.id)
    h.book(request, token=h.token(EMAIL, "customer-1"))
    plan = h.plan
    assert plan.customer.customer_id == "customer-1" and plan.new_profile is None
    assert plan.appointment.contact.full_name == "Dana Rivera" and plan.appointment.contact.phone == PHONE
    assert plan.appointment.vehicle_id == saved.id and plan.vehicle is None
    assert plan.new_lookups == () and plan.proposed_changes == ()
    assert (h.store.lookup_calls, h.store.part_calls) == (1, 0)  # the saved vehicle came in the first read


def test_a_verified_customer_typing_other_details_books_on_their_record_and_proposes_them() -> None:
    h = Harness()
    on_file(h, known())
    on_file(h, known(customer_id="customer-2", phone="+15125550777", email="other@example.com"))
    typed = {"first_name": "Dana", "last_name": "Rivera", "phone": "+15125550777", "email": EMAIL}
    h.book(booking(customer=typed), token=h.token(EMAIL, "customer-1"))
    plan = h.plan
    # The typed phone is customer-2's: the token decides whose booking it is
    assert plan.customer.customer_id == "customer-1" and plan.new_lookups == ()
    assert plan.appointment.contact.phone == "+15125550777"


def test_a_verified_contact_that_became_a_customer_since_books_on_that_customer() -> None:
    h = Harness()
    on_file(h, known())
    h.book(booking(), token=h.token(PHONE))  # verified before the first booking was written
    assert h.plan.customer.customer_id == "customer-1" and h.plan.new_profile is None


def test_a_token_whose_customer_is_gone_must_verify_again() -> None:
    h = Harness()
    with pytest.raises(InvalidVerificationToken):
        h.book(booking(), token=h.token(EMAIL, "customer-404"))


def test_a_known_source_token_preselects_the_vehicle() -> None:
    h = Harness(demo_catalog(require_verification=True))
    on_file(h, known())
    saved = Vehicle(id="e" * 20, year=2020, make="Ford", model="Escape")
    h.store.parts["customer-1", saved.id] = saved
    token = h.token(PHONE, "customer-1", vehicle_id=saved.id, via="known_source")
    h.book(booking(customer=None, vehicle=None), token=token)
    assert h.plan.appointment.vehicle_id == saved.id and h.plan.appointment.verified_via == "known_source"
    # A vehicle typed in wins over the preselected one
    h.book(booking(customer=None), token=token)
    assert h.plan.vehicle is not None and h.plan.appointment.vehicle_id == h.plan.vehicle.id != saved.id


def test_details_and_vehicle_are_needed_when_no_token_supplies_them(h: Harness) -> None:
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(customer=None))
    assert refused.value.details is not None and refused.value.details[0]["field"] == "body.customer"
    with pytest.raises(ValidationFailed) as refused:
        h.book(booking(vehicle=None))
    assert refused.value.details is not None and refused.value.details[0]["field"] == "body.vehicle"
    # A new verified customer has nothing on file to book with either
    with pytest.raises(ValidationFailed):
        h.book(booking(customer=None), token=h.token(PHONE))
    assert h.store.plans == []


def test_a_verified_do_not_service_customer_is_refused() -> None:
    h = Harness()
    on_file(h, known(do_not_service=True))
    with pytest.raises(BookingNotAvailable):
        h.book(booking(customer=None), token=h.token(PHONE, "customer-1"))
    assert h.store.plans == []


# ------------------------------------------------------------------------------ takeover
CANONICAL = "1100 CONGRESS AVE APT 4|AUSTIN|TX|78701"
STRANGER = {"first_name": "Sam", "last_name": "Okafor", "phone": "+15125550188", "email": "sam@example.com"}
SAME_PLACE = {"line1": "1100 CONGRESS AVE", "line2": "APT 4", "city": "austin", "state": "TX", "zip": "78701"}


def location_on_file(h: Harness, *, do_not_service: bool = False) -> None:
    on_file(h, known(do_not_service=do_not_service))
    h.store.address_owners[CANONICAL] = AddressOwner("customer-1", "a" * 20)


def test_takeover_on_books_an_unknown_phone_at_a_known_address_on_its_customer_with_the_note() -> None:
    h = Harness(demo_catalog(takeover_enabled=True))
    location_on_file(h)
    h.book(booking(customer=STRANGER, appointment_type="at_home", address=SAME_PLACE))
    plan = h.plan
    appointment = plan.appointment
    assert appointment.customer_id == "customer-1" and plan.new_profile is None
    assert appointment.address_id == "a" * 20 and plan.address is None  # the location's own record
    assert plan.new_lookups == () and plan.proposed_changes == ()
    assert plan.vehicle is not None and plan.vehicle.id == stable_id("customer-1", "2019|honda|civic")
    assert appointment.takeover is not None and appointment.takeover.phone == "+15125550188"
    assert appointment.staff_notes == appointment.takeover.note()
    assert appointment.contact.full_name == "Sam Okafor"  # the booker gets the confirmation


def test_the_takeover_note_is_the_settings_wording_with_the_bookers_details() -> None:
    note = Takeover(name="Sam Okafor", phone="+15125550188", email="sam@example.com").note()
    assert note == (
        "***POTENTIAL SITE TAKEOVER***\n\n"
        "This job was booked on a location that already exists in your system by a customer whose "
        "phone number we did not recognize. We have booked the appointment on the existing customer "
        "for this location. The new customer's information is as follows:\n\n"
        "NAME: Sam Okafor\n\n"
        "PHONE NUMBER: +1 512-555-0188\n\n"
        "EMAIL: sam@example.com\n\n"
        "Please review the job. If it is an existing customer using a new phone number, please update "
        "the record. If the customer is a new owner of an existing location, create a new customer "
        "record and map the job to that record."
    )


def test_takeover_off_makes_a_new_customer_and_location() -> None:
    h = Harness(demo_catalog(takeover_enabled=False))
    location_on_file(h)
    h.book(booking(customer=STRANGER, appointment_type="at_home", address=SAME_PLACE))
    plan = h.plan
    assert plan.new_profile is not None and plan.appointment.customer_id == plan.new_profile.id
    assert plan.address is not None and plan.address.canonical == CANONICAL
    assert plan.address.id == stable_id(plan.new_profile.id, CANONICAL)
    assert plan.appointment.takeover is None and plan.appointment.staff_notes is None


def test_takeover_leaves_known_phones_and_new_addresses_alone() -> None:
    h = Harness(demo_catalog(takeover_enabled=True))
    location_on_file(h)
    on_file(h, known(customer_id="customer-2", phone=STRANGER["phone"], email=STRANGER["email"]))
    h.book(booking(customer=STRANGER, appointment_type="at_home", address=SAME_PLACE))
    assert h.plan.appointment.customer_id == "customer-2" and h.plan.appointment.takeover is None
    elsewhere = {**SAME_PLACE, "line1": "1200 Congress Ave"}
    h.book(
        booking(
            customer={**STRANGER, "phone": "+15125550166", "email": "x@example.com"},
            appointment_type="at_home",
            address=elsewhere,
        )
    )
    assert h.plan.new_profile is not None and h.plan.appointment.takeover is None


def test_takeover_onto_a_do_not_service_customer_is_a_request_for_staff() -> None:
    # The booker is never the address's customer, verified or not: they are not told of the mark
    h = Harness(demo_catalog(takeover_enabled=True, booking_mode="instant"))
    location_on_file(h, do_not_service=True)
    for token in (None, h.token(STRANGER["phone"])):
        h.book(booking(customer=STRANGER, appointment_type="at_home", address=SAME_PLACE), token=token)
        appointment = h.plan.appointment
        assert appointment.customer_id == "customer-1" and appointment.takeover is not None
        assert (appointment.status, appointment.do_not_service) == ("requested", True)
    assert len(h.store.plans) == 2
