"""Staff customer edits, the name search and blocked time, below the HTTP layer: pure pieces
(readings of a name search, ids that name keys, a block's slots), and the repositories on an
in-process moto table where concurrency matters (a write collides with another; two customers
race for one phone; a block's slot counts change between the read and the write)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bookbay.api.customers import CustomerPatch
from bookbay.domain.audit import Actor
from bookbay.domain.blocks import Block, block_id, blocked_slots, check_range, parse_block_id
from bookbay.domain.booking import CustomerProfile
from bookbay.exceptions import ContactInUse, InvalidTransition, StaleWrite, ValidationFailed
from bookbay.models import keys
from bookbay.models.booking import SlotItem
from bookbay.models.customers import CustomerItem, CustomerLookupItem
from bookbay.repositories import audit
from bookbay.repositories.blocks import BlocksRepository
from bookbay.repositories.customer_admin import (
    CustomerAdminRepository,
    name_readings,
    proposal_key,
    proposal_ref,
)
from bookbay.repositories.customers import CustomersRepository, name_index
from bookbay.services import customer_admin
from bookbay.services.customer_admin import CustomerEdit
from bookbay.shopfile import read_shop_file
from tests.support.table import REGION, moto_table

ROOT = Path(__file__).resolve().parents[2]
DEMO = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")
AUSTIN_STORE = DEMO.location("austin-downtown")
SETTINGS = DEMO.shop.settings
AUSTIN = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
STAFF = Actor(kind="staff", sub="u1", email="advisor@example.com")
CUSTOMER = "c0ffee0000000001"
OTHER = "c0ffee0000000002"


# ------------------------------------------------------------------------------ pure pieces
@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("smith", ["smith"]),
        ("john smith", ["john smith", "smith john"]),
        ("ana de la cruz", ["ana de la cruz", "de la cruz ana", "la cruz ana de", "cruz ana de la"]),
        ("a b c d e f", ["a b c d e f", "b c d e f a", "c d e f a b", "d e f a b c"]),
        ("", []),
    ],
)
def test_name_readings(text: str, readings: list[str]) -> None:
    assert name_readings(text) == readings


def test_the_name_index_is_normalized_last_name_first() -> None:
    profile = CustomerProfile(
        id=CUSTOMER, first_name="José", last_name="Núñez-O'Neil", source="web", created_at=NOW
    )
    assert name_index(profile) == ("CUSTOMERNAME#n", f"nunez oneil jose#{CUSTOMER}")


def test_a_proposal_id_names_its_key_and_garbage_names_nothing() -> None:
    sort_key = keys.proposed_sk("2026-11-23T15:00:00.123456+00:00", "018f3a2b4c5d9e8f7a6b5c4d")
    ref = proposal_ref(CUSTOMER, sort_key)
    assert proposal_key(ref) == (keys.customer_pk(CUSTOMER), sort_key)
    assert "=" not in ref and "/" not in ref and "+" not in ref
    for garbage in ("", "%%%", "bm90LWEtY2hhbmdl", "x" * 400, proposal_ref("bad id!", sort_key)):
        assert proposal_key(garbage) is None


def test_a_block_id_names_its_location_start_and_ref() -> None:
    start = datetime(2026, 11, 24, 12, 0, tzinfo=AUSTIN)
    text = block_id("austin-downtown", start, "018f3a2b4c5d9e8f7a6b5c4d")
    assert text == "austin-downtown.20261124T180000Z.018f3a2b4c5d9e8f7a6b5c4d"
    ref = parse_block_id(text)
    assert ref is not None and ref.location_id == "austin-downtown" and ref.start_utc == start
    for garbage in ("", "austin", "Austin.20261124T180000Z.018f3a2b4c5d9e8f7a6b5c4d", text + "0", text[:-1]):
        assert parse_block_id(garbage) is None
    assert parse_block_id("austin-downtown.20261340T180000Z.018f3a2b4c5d9e8f7a6b5c4d") is None


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AUSTIN)


def test_a_block_takes_every_slot_it_overlaps_and_none_when_closed() -> None:
    assert AUSTIN_STORE is not None
    tuesday = date(2026, 11, 24)
    starts = blocked_slots(AUSTIN_STORE, SETTINGS, local(tuesday, 12, 10), local(tuesday, 12, 40))
    assert [s.astimezone(AUSTIN).strftime("%H:%M") for s in starts] == ["12:00", "12:30"]
    # A whole day from midnight to midnight: the opening hours' 20 slots.
    day = blocked_slots(AUSTIN_STORE, SETTINGS, local(tuesday, 0), local(tuesday + timedelta(days=1), 0))
    assert len(day) == 20 and day[0].astimezone(AUSTIN).strftime("%H:%M") == "07:30"
    # Thanksgiving and a Sunday: closed, nothing to block.
    assert (
        blocked_slots(AUSTIN_STORE, SETTINGS, local(date(2026, 11, 26), 8), local(date(2026, 11, 26), 12))
        == []
    )
    assert (
        blocked_slots(AUSTIN_STORE, SETTINGS, local(date(2026, 11, 29), 8), local(date(2026, 11, 29), 12))
        == []
    )


def test_a_block_across_the_fall_back_hour_takes_real_time() -> None:
    assert AUSTIN_STORE is not None
    saturday = date(2026, 10, 31)  # DST ends Sunday 2026-11-01; Saturday 08:00-12:00 is open
    starts = blocked_slots(AUSTIN_STORE, SETTINGS, local(saturday, 11), local(saturday, 12))
    assert [s.astimezone(AUSTIN).strftime("%H:%M") for s in starts] == ["11:00", "11:30"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1)),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=1)),
        (NOW, NOW + timedelta(days=31, seconds=1)),
        (NOW - timedelta(hours=2), NOW),
    ],
)
def test_bad_ranges(start: datetime, end: datetime) -> None:
    with pytest.raises(ValidationFailed):
        check_range(start, end, NOW)


def test_a_patch_needs_a_change_and_takes_no_nulls() -> None:
    assert CustomerPatch.model_validate({"phone": "(512) 555-0177"}).phone == "+15125550177"
    assert CustomerPatch.model_validate({"first_name": "  Mary   Ann "}).first_name == "Mary Ann"
    for bad in ({}, {"version": 2}, {"email": None}, {"preferred_channel": "fax"}, {"x": 1}):
        with pytest.raises(ValidationError):
            CustomerPatch.model_validate(bad)


# ------------------------------------------------------------------------------ on a table
def save_customer(customer_id: str, phone: str, email: str, last_name: str = "Known") -> CustomerProfile:
    profile = CustomerProfile(
        id=customer_id,
        first_name="Pat",
        last_name=last_name,
        phone=phone,
        email=email,
        source="web",
        created_at=NOW,
    )
    CustomerItem(keys.customer_pk(customer_id), keys.PROFILE_SK, body=profile.model_dump(mode="json")).save()
    for destination in (phone, email):
        pk, sk = keys.contact_key(destination)
        gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, pk)
        CustomerLookupItem(
            pk,
            sk,
            customer_id=customer_id,
            summary=profile.summary().model_dump(mode="json"),
            gsi2pk=gsi2pk,
            gsi2sk=gsi2sk,
        ).save()
    return profile


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_table(monkeypatch) as name:
        save_customer(CUSTOMER, "+15125550199", "pat@example.com")
        save_customer(OTHER, "+15125550142", "sam@example.com", "Other")
        yield name


def test_a_profile_without_name_keys_gets_them_on_its_next_write(table: str) -> None:
    repo = CustomersRepository(table, REGION)
    admin = CustomerAdminRepository(table, REGION)
    assert admin.search_names("known", limit=10, cursor=None).customers == []  # written before the search
    customer_admin.edit_customer(
        repo, CUSTOMER, CustomerEdit(do_not_service=True), version=None, actor=STAFF, now=NOW
    )
    assert [p.id for p in admin.search_names("known", limit=10, cursor=None).customers] == [CUSTOMER]


def test_a_write_that_collides_is_tried_again_from_a_fresh_read(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = CustomersRepository(table, REGION)
    original = repo._profile_item
    reads: list[int] = []

    def racing(customer_id: str) -> CustomerItem | None:
        item = original(customer_id)
        reads.append(1)
        if len(reads) == 1 and item is not None:  # someone else writes between our read and write
            CustomerItem.get(item.pk, item.sk).save()
        return item

    monkeypatch.setattr(repo, "_profile_item", racing)
    written = customer_admin.edit_customer(
        repo, CUSTOMER, CustomerEdit(preferred_channel="sms"), version=None, actor=STAFF, now=NOW
    )
    assert len(reads) == 2 and written.profile.preferred_channel == "sms"
    stored = CustomerLookupItem.get(*keys.contact_key("+15125550199"), consistent_read=True)
    assert stored.summary["preferred_channel"] == "sms"


def test_with_a_version_a_collision_is_reported_not_retried(table: str) -> None:
    repo = CustomersRepository(table, REGION)
    _, version = repo.profile_and_version(CUSTOMER) or (None, 0)
    customer_admin.edit_customer(
        repo, CUSTOMER, CustomerEdit(first_name="Patty"), version=version, actor=STAFF, now=NOW
    )
    with pytest.raises(StaleWrite):
        customer_admin.edit_customer(
            repo, CUSTOMER, CustomerEdit(first_name="Patricia"), version=version, actor=STAFF, now=NOW
        )
    assert repo.profile(CUSTOMER) is not None and repo.profile(CUSTOMER).first_name == "Patty"  # type: ignore[union-attr]


def test_two_customers_racing_for_one_phone_one_wins(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both read the phone as free; the first write takes it; the second is refused (409), and
    its customer keeps the old phone, still found by it."""
    repo = CustomersRepository(table, REGION)
    new_phone = "+15125550100"
    original = repo.contact_lookups

    def meanwhile(customer_id: str, profile: CustomerProfile) -> list[CustomerLookupItem]:
        found = original(customer_id, profile)
        if customer_id == OTHER:
            monkeypatch.setattr(repo, "contact_lookups", original)
            customer_admin.edit_customer(
                repo, CUSTOMER, CustomerEdit(phone=new_phone), version=None, actor=STAFF, now=NOW
            )
        return found

    monkeypatch.setattr(repo, "contact_lookups", meanwhile)
    with pytest.raises(ContactInUse):
        customer_admin.edit_customer(
            repo, OTHER, CustomerEdit(phone=new_phone), version=None, actor=STAFF, now=NOW
        )
    assert repo.find_by_contact(new_phone).customer_id == CUSTOMER  # type: ignore[union-attr]
    assert repo.find_by_contact("+15125550142").customer_id == OTHER  # type: ignore[union-attr]
    assert repo.find_by_contact("+15125550199") is None


def test_a_preferred_channel_needs_its_contact(table: str) -> None:
    item = CustomerItem.get(keys.customer_pk(CUSTOMER), keys.PROFILE_SK)
    item.body = {**item.body, "email": None}
    item.save()
    with pytest.raises(ValidationFailed):
        customer_admin.edit_customer(
            CustomersRepository(table, REGION),
            CUSTOMER,
            CustomerEdit(preferred_channel="email"),
            version=None,
            actor=STAFF,
            now=NOW,
        )


def test_deciding_a_change_decided_meanwhile_is_invalid_transition(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookbay.domain.booking import ProposedChange
    from bookbay.models.customers import ProposedChangeItem

    change = ProposedChange(
        id="018f3a2b4c5d9e8f7a6b5c4d",
        customer_id=CUSTOMER,
        field="first_name",
        current="Pat",
        proposed="Patricia",
        source="web",
        created_at=NOW,
    )
    sort_key = keys.proposed_sk(NOW.isoformat(), change.id)
    ProposedChangeItem(
        keys.customer_pk(CUSTOMER),
        sort_key,
        body=change.model_dump(mode="json"),
        status="pending",
        gsi3pk=keys.PROPOSED_PENDING_GSI3PK,
        gsi3sk=sort_key,
    ).save()
    admin = CustomerAdminRepository(table, REGION)
    repo = CustomersRepository(table, REGION)
    ref = proposal_ref(CUSTOMER, sort_key)
    original = admin.proposal

    def decided_meanwhile(text: str) -> Any:
        stored = original(text)
        item = ProposedChangeItem.get(keys.customer_pk(CUSTOMER), sort_key)
        item.status = "rejected"
        item.save()
        monkeypatch.setattr(admin, "proposal", original)
        return stored

    monkeypatch.setattr(admin, "proposal", decided_meanwhile)
    with pytest.raises(InvalidTransition):
        customer_admin.accept_proposal(repo, admin, ref, actor=STAFF, now=NOW)
    assert repo.profile(CUSTOMER).first_name == "Pat"  # type: ignore[union-attr]


def test_a_block_delete_rereads_counts_that_changed_meanwhile(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the delete's read of the counts and its write, another block marks the same slot:
    the write fails its condition, is done again from a fresh read, and the slot stays blocked."""
    assert AUSTIN_STORE is not None
    repo = BlocksRepository(table, REGION)
    start = datetime(2026, 11, 24, 12, 0, tzinfo=AUSTIN)
    slot = [start.astimezone(UTC)]

    def make(ref: str) -> Block:
        return Block(
            id=block_id(AUSTIN_STORE.id, start, ref),
            location_id=AUSTIN_STORE.id,
            start=start,
            end=start + timedelta(minutes=30),
            created_at=NOW,
            created_by=STAFF,
        )

    first, second = make("0" * 24), make("1" * 24)
    entry = audit.entry(STAFF, "block.create", NOW)
    repo.create(first, slot, entry)
    original = repo._block_counts
    calls: list[int] = []

    def counts_then_another_block(pk: str, sks: Any) -> dict[str, int]:
        found = original(pk, sks)
        calls.append(1)
        if len(calls) == 1:
            repo.create(second, slot, audit.entry(STAFF, "block.create", NOW))
        return found

    monkeypatch.setattr(repo, "_block_counts", counts_then_another_block)
    ref = parse_block_id(first.id)
    assert ref is not None
    assert repo.delete(ref, audit.entry(STAFF, "block.delete", NOW)) is not None
    assert len(calls) == 2
    item = SlotItem.get(keys.location_pk(AUSTIN_STORE.id), keys.slot_sk(start), consistent_read=True)
    assert item.blocked is True  # the second block still holds it
