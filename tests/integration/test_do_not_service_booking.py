"""Do Not Service and the public booking, in process on moto (issue 14, item 10): the mark is told
only to a booker verified as that customer (403 ``booking_not_available``). Anyone else whose
booking lands on such a customer (unverified, recognized by the typed phone or e-mail; a takeover
of their address) is answered as an unknown booker is, and staff get a request marked
``do_not_service`` to review: in the store's e-mail, on the staff page, in the admin read and list.
The appointments are booked a few open days from today, on the real clock, as the link pages run."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from bookbay.repositories.customers import CustomersRepository
from bookbay.services.customers import set_do_not_service
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack, outbox
from tests.integration.test_booking_api import (
    Post,
    body,
    created,
    customer,
    of_kind,
    poster,
    set_settings,
    table,
)
from tests.integration.test_customer_links import event as customer_event
from tests.integration.test_staff_links import assert_page
from tests.integration.test_staff_links import event as staff_event
from tests.integration.test_staff_links import stored as stored_item
from tests.support import error_of, load_event, response_json, with_query
from tests.support.appointments import local, next_weekday

pytestmark = pytest.mark.integration

DAY = next_weekday(datetime.now(UTC).date(), 4)
DANA = customer()  # Dana Rivera, +15125550123, dana.rivera@example.com
STORE = "austin@demo-auto.example.com"
UNKNOWN = customer("Pat", "Quinn", "+15125550161", "pat.quinn@example.com")
HOME = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}


@pytest.fixture
def post(booking_app: ModuleType, call: Any) -> Post:
    return poster(booking_app, call)


@pytest.fixture
def admin(seeded: Stack, staff_app: ModuleType) -> ModuleType:  # staff_app: PUBLIC_BASE_URL set
    return seeded.load("admin_appointments", "AdminAppointmentsFunction")


def at(hour: int, minute: int = 0) -> str:
    return local(DAY, hour, minute).isoformat()


def do_not_service_customer(stack: Stack, post: Post, **booking: Any) -> str:
    """Dana books once (an unknown phone then) and staff mark her Do Not Service; her id."""
    first = created(post(body(start=at(9), customer=DANA, **booking)))
    customer_id = stored(first)["customer_id"]
    set_do_not_service(CustomersRepository(stack.table_name, REGION), customer_id, True)
    return str(customer_id)


def stored(answer: dict[str, Any]) -> dict[str, Any]:
    """The appointment of a booking's answer, as stored."""
    record: dict[str, Any] = stored_item(answer["appointment"]["id"]).body
    return record


def shape(value: Any) -> Any:
    """The keys of a JSON answer, all the way down (values left out)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


def mails_of(stack: Stack, appointment_id: str) -> dict[str, dict[str, Any]]:
    """The appointment's messages, by recipient."""
    found = [i for i in outbox(stack) if i.get("reference", {}).get("S") == f"appointment:{appointment_id}"]
    return {i["to_address"]["S"]: i for i in found}


def admin_event(name: str, appointment_id: str | None = None, **path: str) -> dict[str, Any]:
    event = load_event(name)
    if appointment_id is not None:
        params = {"appointment_id": appointment_id, **path}
        event["pathParameters"] = params
        event["path"] = "/v1/admin/appointments/" + "/".join(params.values())
    return event


def ok(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


# ------------------------------------------------------------------------------ request mode
@pytest.mark.parametrize("recognized_by", ["phone", "email"])
def test_an_unverified_booking_on_a_do_not_service_customer_is_answered_like_anyones_request(
    seeded: Stack, post: Post, recognized_by: str
) -> None:
    # Given Dana on file, marked Do Not Service, in a shop that takes bookings without a code
    dana_id = do_not_service_customer(seeded, post)
    # When someone books with her phone (or, another phone typed, her e-mail), no verification
    typed = DANA if recognized_by == "phone" else {**DANA, "phone": "+15125550177"}
    response = post(body(start=at(11), customer=typed))
    # and someone with a phone and e-mail on no customer books the same time
    unknown = created(post(body(start=at(11), customer=UNKNOWN)))

    # Then both get the same 201: status requested, the same keys, a manage link
    answer = created(response)
    assert answer["appointment"]["status"] == unknown["appointment"]["status"] == "requested"
    assert shape(answer) == shape(unknown)
    assert set(response_json(response)) == {"appointment", "manage_url"}
    assert answer["manage_url"].startswith(f"{PUBLIC_BASE_URL}/c/")
    assert "do_not_service" not in response["body"]
    # and the booking stands on Dana's record, marked for staff, not confirmed
    record = stored(answer)
    assert (record["customer_id"], record["status"], record["do_not_service"]) == (dana_id, "requested", True)
    assert stored(unknown)["do_not_service"] is False
    assert [e for e in of_kind(table(seeded), "Effect") if answer["appointment"]["id"] in e["PK"]] == []
    # The booker gets what any requester gets; the store's e-mail carries the mark
    mails = mails_of(seeded, answer["appointment"]["id"])
    unknown_mails = mails_of(seeded, unknown["appointment"]["id"])
    assert set(mails) == {DANA["email"], STORE} and set(unknown_mails) == {UNKNOWN["email"], STORE}
    to_booker = mails[DANA["email"]]
    assert to_booker["subject"]["S"] == unknown_mails[UNKNOWN["email"]]["subject"]["S"]
    assert to_booker["subject"]["S"].startswith("We received your appointment request")
    assert "Do Not Service" not in to_booker["text"]["S"] + to_booker["html"]["S"]
    to_store = mails[STORE]
    assert to_store["subject"]["S"].startswith("Appointment request (Do Not Service): ")
    assert "DO NOT SERVICE: this customer is marked Do Not Service." in to_store["text"]["S"]
    assert "<strong>Do Not Service:</strong>" in to_store["html"]["S"]
    assert "Do Not Service" not in unknown_mails[STORE]["text"]["S"] + unknown_mails[STORE]["html"]["S"]


def test_a_booker_verified_as_the_do_not_service_customer_is_refused_with_the_store_phone(
    seeded: Stack, post: Post, booking_app: ModuleType
) -> None:
    dana_id = do_not_service_customer(seeded, post)
    before = table(seeded)
    # A code checked for her phone (the token names her, as /v1/verification/checks issues it), or
    # for her e-mail before the check knew her: both prove the booker is Dana
    tokens = booking_app.deps.tokens
    now = datetime.now(UTC)
    for token in (
        tokens.issue(DANA["phone"], "sms", dana_id, now),
        tokens.issue(DANA["email"], "email", None, now),
    ):
        refused = post(body(start=at(11), customer=DANA), Authorization=f"Bearer {token}")
        error = error_of(refused, 403, "booking_not_available")
        assert error["phone"] == "+15125550100" and "+1 512-555-0100" in error["message"]
    assert table(seeded) == before


def test_a_takeover_of_a_do_not_service_customers_address_is_taken_for_review(
    seeded: Stack, post: Post
) -> None:
    set_settings(seeded, takeover_enabled=True)
    dana_id = do_not_service_customer(seeded, post, appointment_type="at_home", address=HOME)
    # A stranger books at Dana's address (their phone on no customer): a request, like anyone's
    stranger = customer("Sam", "Okafor", "+15125550188", "sam@example.com")
    answer = created(post(body(start=at(11), customer=stranger, appointment_type="at_home", address=HOME)))
    assert answer["appointment"]["status"] == "requested"
    record = stored(answer)
    assert record["customer_id"] == dana_id and record["takeover"]["phone"] == "+15125550188"
    assert record["do_not_service"] is True


# ------------------------------------------------------------------------------ instant mode
def test_in_instant_mode_an_unverified_do_not_service_booking_is_a_request_not_a_confirmation(
    seeded: Stack, post: Post
) -> None:
    set_settings(seeded, booking_mode="instant")
    do_not_service_customer(seeded, post)
    unknown = created(post(body(start=at(11), customer=UNKNOWN)))
    answer = created(post(body(start=at(11), customer=DANA)))
    # The unknown phone is confirmed at once; Dana's booking waits for staff (the one sign left,
    # documented: instant mode with require_verification off)
    assert unknown["appointment"]["status"] == "confirmed"
    assert answer["appointment"]["status"] == "requested" and shape(answer) == shape(unknown)
    record = stored(answer)
    assert (record["status"], record["do_not_service"]) == ("requested", True)
    # The booker gets the request e-mail, never the e-confirmation, and no reminder is set
    to_booker = mails_of(seeded, answer["appointment"]["id"])[DANA["email"]]
    assert to_booker["subject"]["S"].startswith("We received your appointment request")
    effects = [e for e in of_kind(table(seeded), "Effect") if answer["appointment"]["id"] in e["PK"]]
    assert effects == []


# ------------------------------------------------------------------------------ what staff see
def test_staff_see_the_mark_and_confirm_deliberately_while_the_manage_link_is_any_requests(
    seeded: Stack,
    post: Post,
    admin: ModuleType,
    staff_app: ModuleType,
    customer_links_app: ModuleType,
    call: Any,
) -> None:
    do_not_service_customer(seeded, post)
    answer = created(post(body(start=at(11), customer=DANA)))
    unknown = created(post(body(start=at(11), customer=UNKNOWN)))
    appointment_id = answer["appointment"]["id"]

    # The admin read and list show the mark
    read = ok(call(admin, admin_event("admin_appointments_get", appointment_id)))
    assert read["appointment"]["do_not_service"] is True and read["warnings"] == ["do_not_service"]
    span = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    listed = ok(call(admin, with_query(load_event("admin_appointments_list"), span)))["appointments"]
    marks = {a["id"]: a["do_not_service"] for a in listed}
    assert marks[appointment_id] is True and marks[unknown["appointment"]["id"]] is False

    # The staff page from the store's e-mail shows it above Confirm
    staff_url = next(
        word for word in mails_of(seeded, appointment_id)[STORE]["text"]["S"].split() if "/s/" in word
    )
    page = assert_page(call(staff_app, staff_event("staff_get", staff_url.rsplit("/", 1)[1])), 200)
    assert "<strong>Do Not Service:</strong> this customer is marked Do Not Service." in page
    assert "Confirm it only if a manager agreed" in page and "Confirm appointment" in page

    # The booker's manage link works as any request's and says nothing of it
    token = answer["manage_url"].rsplit("/", 1)[1]
    mine = assert_page(call(customer_links_app, customer_event("customer_get", token)), 200)
    theirs = assert_page(
        call(customer_links_app, customer_event("customer_get", unknown["manage_url"].rsplit("/", 1)[1])), 200
    )
    status = '<span class="status">Requested — waiting for the store to confirm</span>'
    assert "Do Not Service" not in mine and status in mine and status in theirs
    assert forms(mine, token) == forms(theirs, unknown["manage_url"].rsplit("/", 1)[1]) != []
    assert stored(answer)["status"] == "requested"  # a GET changes nothing

    # Staff may confirm it (their decision, as with a phone booking): the answer keeps the warning
    confirmed = ok(call(admin, admin_event("admin_appointments_action", appointment_id, action="confirm")))
    assert confirmed["appointment"]["status"] == "confirmed"
    assert confirmed["warnings"] == ["do_not_service"] and confirmed["appointment"]["do_not_service"] is True
    subjects = [m["subject"]["S"] for m in outbox(seeded, DANA["email"])]
    assert any(subject.startswith("Your appointment is confirmed") for subject in subjects)


def forms(page: str, token: str) -> list[str]:
    """What a page's forms post to (its token left out)."""
    return [action.replace(token, "<token>") for action in re.findall(r'<form[^>]* action="([^"]*)"', page)]
