"""Customers on file, written as the booking writes them (for the identity and customer tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbay.domain.booking import CustomerAddress, CustomerProfile, Vehicle
from bookbay.domain.catalog import Address
from bookbay.models import keys
from bookbay.models.customers import AddressItem, CustomerItem, CustomerLookupItem, VehicleItem

CUSTOMER = "c0ffee0000000001"
PHONE = "+15125550199"
EMAIL = "pat.returning@example.com"
VEHICLE = Vehicle(id="a" * 20, year=2019, make="Toyota", model="Camry")
# (id, street, ZIP): masked as "1** M*** St" and "9 O** Ave"
ADDRESSES = (("b" * 20, "123 Main St", "78701"), ("c" * 20, "9 Oak Ave", "85016"))


def add_customer(
    customer_id: str = CUSTOMER,
    phone: str = PHONE,
    email: str = EMAIL,
    *,
    first_name: str = "Pat",
    vehicles: tuple[Vehicle, ...] = (VEHICLE,),
) -> CustomerProfile:
    """Profile, phone and e-mail lookup items (with their GSI2 keys), vehicles and two addresses."""
    profile = CustomerProfile(
        id=customer_id,
        first_name=first_name,
        last_name="Returning",
        phone=phone,
        email=email,
        source="web",
        created_at=datetime(2025, 1, 6, 15, 0, tzinfo=UTC),
    )
    owner = keys.customer_pk(customer_id)
    CustomerItem(owner, keys.PROFILE_SK, body=profile.model_dump(mode="json")).save()
    summary = profile.summary().model_dump(mode="json")
    for pk, sk in ((keys.phone_pk(phone), keys.PHONE_SK), (keys.email_pk(email), keys.EMAIL_SK)):
        gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, pk)
        lookup = CustomerLookupItem(pk, sk, customer_id=customer_id, summary=summary)
        lookup.gsi2pk, lookup.gsi2sk = gsi2pk, gsi2sk
        lookup.save()
    for vehicle in vehicles:
        VehicleItem(owner, keys.vehicle_sk(vehicle.id), body=vehicle.model_dump(mode="json")).save()
    for address_id, line1, zip_code in ADDRESSES:
        address = CustomerAddress(
            id=address_id,
            address=Address(line1=line1, city="Austin", state="TX", zip=zip_code),
            canonical=line1.upper(),
        )
        AddressItem(owner, keys.address_sk(address_id), body=address.model_dump(mode="json")).save()
    return profile
