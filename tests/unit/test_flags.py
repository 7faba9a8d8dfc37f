"""Flagged customers: normalization, the flag's fields, matching a booking's details, the value
items' members and cursors, the request schema, and the booking use case's flag check (with the
in-memory fakes of test_booking_service)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from bookbay.api.flags import FlagCreate, FlagOut
from bookbay.domain.audit import Actor
from bookbay.domain.booking import Appointment, CustomerProfile
from bookbay.domain.flags import (
    Flag,
    FlagEntry,
    FlagHits,
    FlagKey,
    FlagMatch,
    destination_key,
    is_flag_id,
    match,
    name_key,
    normalize_name,
    person_keys,
)
from bookbay.exceptions import FieldNotFlagged, InvalidCursor
from bookbay.models.flags import FlagValueItem
from bookbay.repositories import flags as flag_storage
from bookbay.repositories.flags import decode_entry, encode_entry, hits_from, value_key
from bookbay.repositories.pagination import GSI3_CURSOR_KEYS, decode_cursor, encode_cursor
from bookbay.services.notifications import booking_messages
from tests.unit.test_booking_service import EMAIL, NOW, PHONE, Harness, booking, demo_catalog, known

STAFF = Actor(sub="s-1", email="advisor@example.com")
FLAG_ID = "018f3a2b4c5d9e8f7a6b5c4d"


def a_flag(**overrides: Any) -> Flag:
    data: dict[str, Any] = {
        "id": FLAG_ID,
        "name": "Dana Rivera",
        "email": EMAIL,
        "phone": PHONE,
        "address": None,
        "reason": "Rude",
        "created_at": NOW,
        "created_by": STAFF,
    }
    data.update(overrides)
    return Flag.model_validate(data)


# ------------------------------------------------------------------------------ normalization
@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("  Dana   Rivera ", "dana rivera"),
        ("DANA RIVERA", "dana rivera"),
        ("Dana Rivera-López", "dana rivera lopez"),
        ("Seán O'Brien", "sean obrien"),
        ("Seán O\u2019Brien", "sean obrien"),
        ("J.R. Ewing", "jr ewing"),
        ("Rivera, Dana", "rivera dana"),
        ("Straße Weiß", "strasse weiss"),
        ("!!!", ""),
    ],
)
def test_names_are_casefolded_without_accents_punctuation_or_extra_spaces(
    typed: str, normalized: str
) -> None:
    assert normalize_name(typed) == normalized


def test_a_bookers_name_is_first_then_last() -> None:
    assert name_key(" Dana ", "RIVERA") == "dana rivera" == normalize_name("Dana Rivera")
    assert name_key("Mary Ann", "Smith-Jones") == "mary ann smith jones"


def test_flag_ids_have_one_shape() -> None:
    assert is_flag_id(FLAG_ID)
    assert not any(is_flag_id(x) for x in ("", FLAG_ID.upper(), FLAG_ID + "0", "FLAG#x", "../" + FLAG_ID))


# ------------------------------------------------------------------------------ the flag
def test_each_held_field_is_one_key_and_unflagging_removes_it() -> None:
    flag = a_flag(address_canonical="123 MAIN ST|AUSTIN|TX|78701")
    assert flag.held_fields == ["name", "email", "phone", "address"]
    assert flag.active_keys() == [
        FlagKey("name", "dana rivera"),
        FlagKey("email", EMAIL),
        FlagKey("phone", PHONE),
        FlagKey("address", "123 MAIN ST|AUSTIN|TX|78701"),
    ]
    later = datetime(2026, 12, 1, tzinfo=UTC)
    after = flag.unflag("phone", at=later, by=STAFF)
    assert after.active_fields == ["name", "email", "address"] and after.active
    assert FlagKey("phone", PHONE) not in after.active_keys()
    assert after.key("phone") == FlagKey("phone", PHONE)  # still held, for the record
    assert flag.active_fields == ["name", "email", "phone", "address"]  # a new value, not a change

    with pytest.raises(FieldNotFlagged, match="already"):
        after.unflag("phone", at=later, by=STAFF)
    partial = a_flag(name=None, email=None)
    with pytest.raises(FieldNotFlagged, match="no email"):
        partial.unflag("email", at=later, by=STAFF)
    inactive = partial.unflag("phone", at=later, by=STAFF)
    assert not inactive.active and inactive.active_keys() == []
    assert FlagOut.of(inactive).model_dump()["unflagged"] == [
        {"field": "phone", "at": later, "by": "advisor@example.com"}
    ]


# ------------------------------------------------------------------------------ matching
def test_a_bookings_keys_are_its_name_email_phone_and_address() -> None:
    contact = booking().customer
    assert person_keys(contact, "X|Y|TX|78701") == [
        FlagKey("name", "dana rivera"),
        FlagKey("email", EMAIL),
        FlagKey("phone", PHONE),
        FlagKey("address", "X|Y|TX|78701"),
    ]
    assert person_keys(None, None) == []
    assert person_keys(None, "X|Y|TX|78701") == [FlagKey("address", "X|Y|TX|78701")]
    assert destination_key(EMAIL) == FlagKey("email", EMAIL)
    assert destination_key(PHONE) == FlagKey("phone", PHONE)


def test_matches_group_the_fields_by_flag_and_report_what_was_not_read() -> None:
    phone, email, name = FlagKey("phone", PHONE), FlagKey("email", EMAIL), FlagKey("name", "dana rivera")
    first, second = FlagEntry("b" * 24, "Rude"), FlagEntry("a" * 24, "Unpaid")
    hits = FlagHits(
        checked=frozenset({phone, email}),
        entries={phone: frozenset({first, second}), email: frozenset({first})},
    )
    matches, unread = match(hits, [email, phone, name, phone])
    assert matches == [
        FlagMatch(flag_id="a" * 24, fields=["phone"], reason="Unpaid"),
        FlagMatch(flag_id="b" * 24, fields=["email", "phone"], reason="Rude"),
    ]
    assert unread == (name,)
    assert match(FlagHits(checked=frozenset({phone})), [phone]) == ([], ())


def test_an_appointment_is_flagged_exactly_when_it_has_matches() -> None:
    h = Harness()
    h.book(booking())
    unflagged = h.plan.appointment
    assert unflagged.flag_matches == [] and unflagged.flagged is False
    data = unflagged.model_dump(mode="json")
    flagged = Appointment.model_validate(
        {**data, "flag_matches": [{"flag_id": FLAG_ID, "fields": ["phone"], "reason": "Rude"}]}
    )
    assert flagged.flagged is True
    # Stored and read back, it stays consistent (even if a stored body said otherwise)
    assert Appointment.model_validate({**data, "flagged": True}).flagged is False
    assert Appointment.model_validate(flagged.model_dump(mode="json")) == flagged


# ------------------------------------------------------------------------------ storage helpers
@pytest.mark.parametrize("reason", ["Rude", 'Said "never again", left', "Ünïcode — and\nnewlines", ""])
def test_a_value_items_member_names_the_flag_and_its_reason(reason: str) -> None:
    entry = FlagEntry(FLAG_ID, reason)
    member = encode_entry(entry)
    assert decode_entry(member) == entry
    assert encode_entry(FlagEntry(FLAG_ID, reason)) == member  # what DELETE removes is what ADD added


def test_members_that_do_not_decode_are_ignored() -> None:
    assert decode_entry("not json") is None and decode_entry('["only one"]') is None
    key = FlagKey("phone", PHONE)
    item = FlagValueItem(*value_key(key), entries={"garbage", encode_entry(FlagEntry(FLAG_ID, "Rude"))})
    hits = hits_from([key, FlagKey("email", EMAIL)], {value_key(key): item})
    assert hits.checked == {key, FlagKey("email", EMAIL)}
    assert hits.entries == {key: frozenset({FlagEntry(FLAG_ID, "Rude")})}


def test_value_keys_name_the_field_and_the_normalized_value() -> None:
    assert value_key(FlagKey("email", EMAIL)) == (f"FLAGVALUE#email#{EMAIL}", "FLAGVALUE")


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, dict[str, str]]:
    return decode_cursor(cursor, GSI3_CURSOR_KEYS, flag_storage._list_key)


def test_cursors_carry_only_a_flag_list_key() -> None:
    good = {
        "PK": f"FLAG#{FLAG_ID}",
        "SK": "FLAG",
        "GSI3PK": "FLAGS",
        "GSI3SK": f"2026-11-23T15:00:00.000000Z#{FLAG_ID}",
    }
    assert _decode(encode_cursor(good)) == {name: {"S": value} for name, value in good.items()}
    for bad in (
        {**good, "GSI3PK": "REVIEWS#active"},
        {**good, "PK": "CUSTOMER#1"},
        {**good, "PK": "FLAG#x", "GSI3SK": "2026-11-23T15:00:00.000000Z#x"},
        {**good, "GSI3SK": f"2026#{FLAG_ID}"},
        {**good, "SK": "PROFILE"},
        {**good, "extra": "x"},
    ):
        with pytest.raises(InvalidCursor):
            _decode(encode_cursor(bad))
    for text in (
        "%%%",
        "x" * 3000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor([good]),
        _cursor({name: {"N": "1"} for name in good}),
    ):
        with pytest.raises(InvalidCursor):
            _decode(text)


# ------------------------------------------------------------------------------ the request
def test_a_flag_request_normalizes_contact_details_and_wants_something_to_match() -> None:
    request = FlagCreate.model_validate(
        {
            "name": "  Dana   Rivera ",
            "email": "Dana@Example.COM",
            "phone": "(512) 555-0123",
            "reason": " Rude ",
        }
    )
    assert (request.name, request.email, request.phone, request.reason) == (
        "Dana Rivera",
        "dana@example.com",
        PHONE,
        "Rude",
    )
    for bad in (
        {"reason": "Rude"},
        {"name": "Dana", "reason": "Rude"},
        {"name": "D. .", "reason": "Rude"},
        {"phone": PHONE, "reason": " "},
        {"phone": PHONE},
        {"phone": PHONE, "reason": "Rude", "other": 1},
    ):
        with pytest.raises(ValidationError):
            FlagCreate.model_validate(bad)


# ------------------------------------------------------------------------------ the booking's check
def test_typed_details_are_matched_from_the_first_read() -> None:
    h = Harness()
    h.store.flag_values[FlagKey("phone", PHONE)] = frozenset({FlagEntry(FLAG_ID, "Rude")})
    result = h.book(booking())
    assert result.appointment.flag_matches == [FlagMatch(flag_id=FLAG_ID, fields=["phone"], reason="Rude")]
    assert result.appointment.status == "requested"  # booked all the same
    assert h.store.lookup_calls == 1 and len(h.store.plans) == 1
    assert h.plan.flag_checks == ()  # everything it carries was read
    assert h.messages.calls[0]["appointment"].flag_matches == result.appointment.flag_matches


def test_details_on_file_are_checked_in_the_write_and_read_when_flagged() -> None:
    h = Harness()
    profile = CustomerProfile(
        id="customer-1",
        first_name="Dana",
        last_name="Rivera",
        phone=PHONE,
        email=EMAIL,
        source="web",
        created_at=NOW,
    )
    h.store.profiles["customer-1"] = profile
    h.store.remember(known())
    token = h.token(PHONE, "customer-1")

    # Nothing flagged: one read, and the details from the record are checked in the write
    h.book(booking(customer=None), token=token)
    assert h.store.lookup_calls == 1
    assert set(h.plan.flag_checks) == {FlagKey("name", "dana rivera"), FlagKey("email", EMAIL)}
    assert h.plan.appointment.flag_matches == []

    # The e-mail on file is flagged: the write is refused, the booking reads it and writes again
    h.store.flag_values[FlagKey("email", EMAIL)] = frozenset({FlagEntry(FLAG_ID, "Rude")})
    h.store.plans.clear()
    h.store.lookup_calls = 0
    result = h.book(booking(customer=None), token=token)
    assert h.store.lookup_calls == 2 and len(h.store.plans) == 2
    assert h.plan.flag_checks == ()
    assert result.appointment.flag_matches == [FlagMatch(flag_id=FLAG_ID, fields=["email"], reason="Rude")]


def test_the_store_email_says_which_fields_matched_and_why() -> None:
    h = Harness()
    h.book(booking())
    appointment = h.plan.appointment.model_copy(
        update={
            "flag_matches": [FlagMatch(flag_id=FLAG_ID, fields=["phone", "address"], reason="Rude & loud")]
        }
    )
    customer, store = booking_messages(
        demo_catalog(),
        appointment,
        vehicle_label="2019 Honda Civic",
        manage_url="https://book.example.com/m/x",
        staff_url="https://book.example.com/s/y",
        now=NOW,
    )
    assert "Flagged customer: matched on phone, address - reason: Rude & loud" in store.text
    assert "matched on phone, address &mdash; reason: Rude &amp; loud" in (store.html or "")
    assert "Flagged" not in customer.text and "Flagged" not in (customer.html or "")
