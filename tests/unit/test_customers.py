"""Do Not Service (bookbay.services.customers) on an in-process moto table: the profile and every
phone / e-mail lookup item of the customer change together, and nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bookbay.domain.booking import CustomerProfile, CustomerSummary
from bookbay.exceptions import NotFound, StaleWrite
from bookbay.models import keys
from bookbay.models.customers import CustomerItem, CustomerLookupItem
from bookbay.repositories.customers import CustomersRepository, DoNotServiceSet
from bookbay.services.customers import WRITE_ATTEMPTS, set_do_not_service
from tests.support.table import REGION, moto_table

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CUSTOMER = "c0ffee0000000001"
OTHER = "c0ffee0000000002"
PHONE = "+15125550199"
EMAIL = "pat.known@example.com"
SECOND_PHONE = "+15125550177"  # added by a later booking: on GSI2, not on the profile
OTHER_PHONE = "+15125550142"


def save_lookup(destination: str, summary: CustomerSummary, *, on_gsi2: bool) -> None:
    pk, sk = keys.contact_key(destination)
    item = CustomerLookupItem(
        pk, sk, customer_id=summary.customer_id, summary=summary.model_dump(mode="json")
    )
    if on_gsi2:
        item.gsi2pk, item.gsi2sk = keys.customer_contact_gsi2(summary.customer_id, pk)
    item.save()


def save_customer(customer_id: str, phone: str, email: str) -> CustomerProfile:
    record = CustomerProfile(
        id=customer_id,
        first_name="Pat",
        last_name="Known",
        phone=phone,
        email=email,
        source="web",
        created_at=NOW,
    )
    CustomerItem(keys.customer_pk(customer_id), keys.PROFILE_SK, body=record.model_dump(mode="json")).save()
    return record


def stored_profile(customer_id: str) -> tuple[dict[str, Any], int]:
    item = CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)
    return item.body, int(item.version or 0)


def stored_lookup(destination: str) -> CustomerLookupItem:
    return CustomerLookupItem.get(*keys.contact_key(destination), consistent_read=True)


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[CustomersRepository]:
    with moto_table(monkeypatch) as table:
        record = save_customer(CUSTOMER, PHONE, EMAIL)
        summary = record.summary()
        save_lookup(PHONE, summary, on_gsi2=True)
        save_lookup(EMAIL, summary, on_gsi2=False)  # written before lookups had GSI2 keys
        save_lookup(SECOND_PHONE, summary, on_gsi2=True)
        other = save_customer(OTHER, OTHER_PHONE, "sam@example.com").summary()
        save_lookup(OTHER_PHONE, other, on_gsi2=True)
        save_lookup("sam@example.com", other, on_gsi2=True)
        yield CustomersRepository(table, REGION)


def test_do_not_service_flips_the_profile_and_every_lookup_item_of_the_customer(
    repo: CustomersRepository,
) -> None:
    _, version = stored_profile(CUSTOMER)

    result = set_do_not_service(repo, CUSTOMER, True)

    # The profile carries the flag (a new version) and so does every lookup item the booking reads:
    # on GSI2 or only named by the profile (which now gets its GSI2 keys too)
    assert result.profile.do_not_service is True and result.lookups_updated == 3
    body, new_version = stored_profile(CUSTOMER)
    assert body["do_not_service"] is True and new_version == version + 1
    for destination in (PHONE, EMAIL, SECOND_PHONE):
        item = stored_lookup(destination)
        assert item.summary["do_not_service"] is True
        assert (item.gsi2pk, item.gsi2sk) == keys.customer_contact_gsi2(CUSTOMER, item.pk)
        assert repo.find_by_contact(destination) == result.profile.summary()
    # And nobody else's
    assert stored_profile(OTHER)[0]["do_not_service"] is False
    assert stored_lookup(OTHER_PHONE).summary["do_not_service"] is False

    # Off again
    cleared = set_do_not_service(repo, CUSTOMER, False)
    assert cleared.profile.do_not_service is False
    assert stored_profile(CUSTOMER) == ({**body, "do_not_service": False}, version + 2)
    assert all(stored_lookup(d).summary["do_not_service"] is False for d in (PHONE, EMAIL, SECOND_PHONE))


def test_a_lookup_item_of_another_customer_is_never_changed(repo: CustomersRepository) -> None:
    # Given a profile that names an e-mail whose lookup item belongs to somebody else
    item = CustomerItem.get(keys.customer_pk(CUSTOMER), keys.PROFILE_SK)
    item.body = {**item.body, "email": "sam@example.com"}
    item.save()
    record = CustomerProfile.model_validate(item.body)
    lookups = repo.contact_lookups(CUSTOMER, record)
    assert {item.pk for item in lookups} == {keys.phone_pk(PHONE), keys.phone_pk(SECOND_PHONE)}
    set_do_not_service(repo, CUSTOMER, True)
    assert stored_lookup("sam@example.com").summary["do_not_service"] is False


def test_an_unknown_customer_is_not_found(repo: CustomersRepository) -> None:
    with pytest.raises(NotFound):
        set_do_not_service(repo, "nobody", True)


def test_a_concurrent_change_is_retried_then_reported(
    repo: CustomersRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repo.set_do_not_service
    calls: list[int] = []

    def counted(customer_id: str, flag: bool) -> DoNotServiceSet:
        calls.append(1)
        return real(customer_id, flag)

    monkeypatch.setattr(repo, "set_do_not_service", counted)
    original = repo._profile_item

    def stale_read(customer_id: str) -> CustomerItem | None:
        item = original(customer_id)
        if item is not None and len(calls) == 1:
            # Somebody saves the profile between the first attempt's read and its write
            CustomerItem.get(item.pk, item.sk).save()
        return item

    monkeypatch.setattr(repo, "_profile_item", stale_read)
    assert set_do_not_service(repo, CUSTOMER, True).profile.do_not_service is True
    assert len(calls) == 2 and stored_lookup(PHONE).summary["do_not_service"] is True

    def always_stale(customer_id: str, flag: bool) -> DoNotServiceSet:
        calls.append(1)
        raise StaleWrite("changed")

    calls.clear()
    monkeypatch.setattr(repo, "set_do_not_service", always_stale)
    with pytest.raises(StaleWrite):
        set_do_not_service(repo, CUSTOMER, False)
    assert len(calls) == WRITE_ATTEMPTS


def test_find_by_contact(repo: CustomersRepository) -> None:
    found = repo.find_by_contact(EMAIL)
    assert found is not None and (found.customer_id, found.first_name) == (CUSTOMER, "Pat")
    assert repo.find_by_contact("+15125550100") is None
