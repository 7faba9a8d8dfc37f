"""Staff customer routes in process on moto: search by phone, e-mail and name; the whole record;
edits that keep the lookup items the booking reads in step (one transaction, audited, optimistic
version); known-source links; the proposed-change queue accepted and rejected."""

from __future__ import annotations

import json
import logging
from types import ModuleType
from typing import Any

import pytest

from bookbay.domain.ids import hash_token
from bookbay.models import keys
from bookbay.models.audit import AuditItem
from bookbay.models.customers import CustomerItem, CustomerLookupItem, ProposedChangeItem
from bookbay.repositories.source_links import SourceLinkRepository
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack
from tests.integration.test_booking_api import NOW, Post, body, created, customer, poster, table
from tests.support import error_of, load_event, response_json, with_body, with_query
from tests.support.customers import CUSTOMER, EMAIL, PHONE, VEHICLE, add_customer

pytestmark = pytest.mark.integration

DANA_PHONE = "+15125550123"  # the booking event's customer
DANA_EMAIL = "dana.rivera@example.com"


@pytest.fixture
def admin_app(booking_app: ModuleType, seeded: Stack, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The staff customer routes (the shop's links on PUBLIC_BASE_URL, as booking_app sets)."""
    app = seeded.load("admin_customers", "AdminCustomersFunction")
    monkeypatch.setattr(app, "clock", lambda: NOW)
    return app


@pytest.fixture
def post(booking_app: ModuleType, call: Any, monkeypatch: pytest.MonkeyPatch) -> Post:
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    return poster(booking_app, call)


@pytest.fixture
def staff(admin_app: ModuleType, call: Any) -> Any:
    """staff(event name, path params?, query?, body?) -> the handler's answer."""

    def send(
        name: str,
        params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        data: Any = None,
    ) -> dict[str, Any]:
        event = load_event(name)
        if params is not None:
            path = event["resource"]
            for key, value in params.items():
                path = path.replace("{" + key + "}", value)
            event["path"], event["pathParameters"] = path, params
        event = with_query(event, query)
        if data is not None:
            event = with_body(event, data if isinstance(data, str) else json.dumps(data))
        response: dict[str, Any] = call(admin_app, event)
        return response

    return send


def ok(response: dict[str, Any], status: int = 200) -> Any:
    assert response["statusCode"] == status, response["body"]
    return response_json(response)


def get_customer(staff: Any, customer_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = ok(staff("admin_customers_get", {"customer_id": customer_id}))["customer"]
    return answer


def lookup(destination: str) -> CustomerLookupItem | None:
    try:
        return CustomerLookupItem.get(*keys.contact_key(destination), consistent_read=True)
    except CustomerLookupItem.DoesNotExist:
        return None


def profile_item(customer_id: str) -> CustomerItem:
    return CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)


def audits(customer_id: str) -> list[dict[str, Any]]:
    return [
        item.body
        for item in AuditItem.query(keys.customer_pk(customer_id), AuditItem.sk.startswith(keys.AUDIT_PREFIX))
    ]


def book(post: Post, who: dict[str, str], hour: int = 10) -> dict[str, Any]:
    """A booking on the Tuesday at ``hour`` (Austin) by ``who``; the 201 answer."""
    answer: dict[str, Any] = created(post(body(customer=who, start=f"2026-11-24T{hour:02d}:00:00-06:00")))
    return answer


def customer_of(post: Post, who: dict[str, str], hour: int = 10) -> str:
    """The id of the customer a booking by ``who`` went on."""
    appointment_id = book(post, who, hour)["appointment"]["id"]
    item = whole_items()[(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK)]
    return str(json.loads(item["body"])["customer_id"])


_stack: list[Stack] = []


def whole_items() -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table (to check that a refused request changed nothing)."""
    return table(_stack[0])


@pytest.fixture(autouse=True)
def _remember(seeded: Stack) -> None:
    _stack[:] = [seeded]


# ------------------------------------------------------------------------------ access
def test_no_token_is_401_and_no_staff_group_is_403(staff: Any, admin_app: ModuleType, call: Any) -> None:
    event = load_event("admin_customers_get")
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "customers"
    assert call(admin_app, event)["statusCode"] == 403
    del event["requestContext"]["authorizer"]
    error_of(call(admin_app, event), 401, "unauthorized")


# ------------------------------------------------------------------------------ search
def test_search_by_phone_email_and_name(staff: Any, post: Post) -> None:
    dana = customer_of(post, customer())
    jose = customer_of(post, customer("José", "Núñez-Smith", "+15125550124", "jose@example.com"), 11)
    smith = customer_of(post, customer("Ann", "Smith", "+15125550125", "ann@example.com"), 12)

    def ids(q: str, **extra: str) -> tuple[list[str], str]:
        answer = ok(staff("admin_customers_search", query={"q": q, **extra}))
        return [c["id"] for c in answer["customers"]], answer["matched_by"]

    assert ids("(512) 555-0123") == ([dana], "phone")
    assert ids("+1 512 555 0124") == ([jose], "phone")
    assert ids("DANA.Rivera@Example.com") == ([dana], "email")
    assert ids("+1 512 555 0199") == ([], "phone")
    assert ids("riv") == ([dana], "name")
    assert ids("Dana Rivera") == ([dana], "name")  # first last
    assert ids("rivera, d") == ([dana], "name")  # last, first
    assert ids("nunez") == ([jose], "name")  # accents and case do not matter
    assert ids("jose nunez smith") == ([jose], "name")
    assert ids("smith") == ([smith], "name")  # a last-name prefix, not a word inside one
    found = ok(staff("admin_customers_search", query={"q": "rivera dana"}))["customers"]
    assert found == [
        {
            "id": dana,
            "first_name": "Dana",
            "last_name": "Rivera",
            "phone": DANA_PHONE,
            "email": DANA_EMAIL,
            "do_not_service": False,
            "preferred_channel": "email",
        }
    ]
    assert ids("dana") == ([], "name")  # one word: the start of a last name


def test_name_search_pages_with_a_cursor(staff: Any, post: Post) -> None:
    made = [
        customer_of(post, customer("Pat", f"Lee{n}", f"+1512555013{n}", f"lee{n}@example.com"), 8 + n)
        for n in range(5)
    ]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"q": "lee", "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = ok(staff("admin_customers_search", query=query))
        seen += [c["id"] for c in answer["customers"]]
        pages += 1
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == made and pages >= 3  # name order: lee0 .. lee4, each once


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"q": "555-01"}, 422, "validation_error"),  # a phone number, not a whole one
        ({"q": "dana@"}, 422, "validation_error"),
        ({"q": "!!!"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"q": "lee", "limit": "0"}, 422, "validation_error"),
        ({"q": "lee", "cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"q": "+15125550123", "cursor": "eyJQSyI6MX0"}, 400, "invalid_cursor"),
    ],
)
def test_bad_searches_are_4xx(staff: Any, query: dict[str, str], status: int, code: str) -> None:
    error_of(staff("admin_customers_search", query=query or None), status, code)


def test_a_cursor_of_another_search_is_refused(staff: Any, post: Post) -> None:
    for n in range(3):
        customer_of(post, customer("Pat", f"Lee{n}", f"+1512555013{n}", f"lee{n}@example.com"), 8 + n)
    cursor = ok(staff("admin_customers_search", query={"q": "lee", "limit": "1"}))["next_cursor"]
    assert cursor
    error_of(staff("admin_customers_search", query={"q": "rivera", "cursor": cursor}), 400, "invalid_cursor")


# ------------------------------------------------------------------------------ read
def test_read_gives_the_whole_record(staff: Any, post: Post) -> None:
    add_customer()
    record = get_customer(staff, CUSTOMER)
    assert record["id"] == CUSTOMER and record["version"] >= 1
    assert {(c["kind"], c["value"], c["primary"]) for c in record["contacts"]} == {
        ("phone", PHONE, True),
        ("email", EMAIL, True),
    }
    assert [v["label"] for v in record["vehicles"]] == [VEHICLE.label]
    assert {a["address"]["line1"] for a in record["addresses"]} == {"123 Main St", "9 Oak Ave"}
    assert record["recent_appointments"] == [] and record["proposed_changes"] == []
    assert record["history"] == []

    # The same person books with another last name: the appointment and a pending proposal show.
    appointment = book(post, {"first_name": "Pat", "last_name": "Returned", "phone": PHONE, "email": EMAIL})
    record = get_customer(staff, CUSTOMER)
    assert [a["id"] for a in record["recent_appointments"]] == [appointment["appointment"]["id"]]
    assert [(p["field"], p["current"], p["proposed"]) for p in record["proposed_changes"]] == [
        ("last_name", "Returning", "Returned")
    ]


def test_an_unknown_customer_is_404(staff: Any) -> None:
    error_of(staff("admin_customers_get", {"customer_id": "nobody"}), 404, "not_found")
    error_of(
        staff("admin_customers_patch", {"customer_id": "nobody"}, data={"do_not_service": True}),
        404,
        "not_found",
    )


# ------------------------------------------------------------------------------ edit
def test_preferred_channel_changes_the_profile_and_every_lookup_in_step(staff: Any) -> None:
    add_customer()
    version = get_customer(staff, CUSTOMER)["version"]
    answer = ok(
        staff(
            "admin_customers_patch",
            {"customer_id": CUSTOMER},
            data={"preferred_channel": "sms", "version": version},
        )
    )["customer"]
    assert answer["preferred_channel"] == "sms" and answer["version"] == version + 1
    assert profile_item(CUSTOMER).body["preferred_channel"] == "sms"
    for destination in (PHONE, EMAIL):
        item = lookup(destination)
        assert item is not None and item.summary["preferred_channel"] == "sms"
        assert (item.gsi2pk, item.gsi2sk) == keys.customer_contact_gsi2(CUSTOMER, item.pk)
    # The audit trail: who, and the field before / after.
    [entry] = audits(CUSTOMER)
    assert entry["actor"] == {
        "kind": "staff",
        "sub": "7d1f0c1e-0b7c-4a53-9a8e-2f1b3c4d5e6f",
        "email": "advisor@demo-auto.example.com",
    }
    assert entry["action"] == "customer.edit"
    assert entry["changes"] == {"preferred_channel": {"before": "email", "after": "sms"}}
    assert answer["history"][-1]["changes"] == entry["changes"]

    # A stale version: 409, nothing written.
    before = whole_items()
    error_of(
        staff(
            "admin_customers_patch",
            {"customer_id": CUSTOMER},
            data={"do_not_service": True, "version": version},
        ),
        409,
        "concurrent_update",
    )
    assert whole_items() == before


def test_a_new_phone_replaces_the_old_lookup_and_a_taken_one_is_409(staff: Any, post: Post) -> None:
    add_customer()
    other = customer_of(post, customer())  # Dana owns DANA_PHONE
    answer = ok(staff("admin_customers_patch", {"customer_id": CUSTOMER}, data={"phone": "(512) 555-0177"}))
    assert answer["customer"]["phone"] == "+15125550177"
    new = lookup("+15125550177")
    assert new is not None and new.customer_id == CUSTOMER and new.summary["phone"] == "+15125550177"
    assert (new.gsi2pk, new.gsi2sk) == keys.customer_contact_gsi2(CUSTOMER, new.pk)
    assert lookup(PHONE) is None  # the old number no longer finds the customer
    email_item = lookup(EMAIL)
    assert email_item is not None and email_item.summary["phone"] == "+15125550177"
    assert audits(CUSTOMER)[-1]["changes"] == {"phone": {"before": PHONE, "after": "+15125550177"}}
    found = ok(staff("admin_customers_search", query={"q": "512-555-0177"}))["customers"]
    assert [c["id"] for c in found] == [CUSTOMER]

    # Dana's phone is Dana's: 409 contact_in_use naming nobody; nothing changes.
    before = whole_items()
    error = error_of(
        staff("admin_customers_patch", {"customer_id": CUSTOMER}, data={"phone": DANA_PHONE}),
        409,
        "contact_in_use",
    )
    assert other not in json.dumps(error) and "Dana" not in json.dumps(error)
    assert error["details"] == [{"field": "body.phone", "message": "this phone number is another customer's"}]
    assert whole_items() == before


def test_a_new_email_and_name_move_the_lookups_and_the_name_search(staff: Any) -> None:
    add_customer()
    ok(
        staff(
            "admin_customers_patch",
            {"customer_id": CUSTOMER},
            data={"email": "Pat.New@Example.com", "last_name": "  Okafor  Jones ", "do_not_service": True},
        )
    )
    profile = profile_item(CUSTOMER)
    assert profile.body["email"] == "pat.new@example.com" and profile.body["last_name"] == "Okafor Jones"
    assert (profile.gsi3pk, profile.gsi3sk) == ("CUSTOMERNAME#o", f"okafor jones pat#{CUSTOMER}")
    assert lookup(EMAIL) is None
    new = lookup("pat.new@example.com")
    assert new is not None and new.summary["do_not_service"] is True
    phone_item = lookup(PHONE)
    assert phone_item is not None and phone_item.summary["last_name"] == "Okafor Jones"
    names = ok(staff("admin_customers_search", query={"q": "okafor"}))["customers"]
    assert [c["id"] for c in names] == [CUSTOMER]
    assert ok(staff("admin_customers_search", query={"q": "returning"}))["customers"] == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": 3},
        {"phone": "12"},
        {"phone": None},
        {"email": "not-an-email"},
        {"preferred_channel": "fax"},
        {"first_name": "   "},
        {"do_not_service": "maybe"},
        {"nickname": "P"},
        "[1]",
        '{"phone": ',
    ],
)
def test_bad_edits_are_4xx_and_change_nothing(staff: Any, data: Any) -> None:
    add_customer()
    before = whole_items()
    response = staff("admin_customers_patch", {"customer_id": CUSTOMER}, data=data)
    assert response["statusCode"] in (400, 422), response["body"]
    assert response_json(response)["error"]["code"] in ("validation_error", "malformed_json")
    assert whole_items() == before


def test_a_channel_without_its_contact_is_refused(staff: Any) -> None:
    add_customer()
    item = profile_item(CUSTOMER)
    item.body = {**item.body, "phone": None}
    item.save()
    error = error_of(
        staff("admin_customers_patch", {"customer_id": CUSTOMER}, data={"preferred_channel": "sms"}),
        422,
        "validation_error",
    )
    assert error["details"][0]["field"] == "body.preferred_channel"


# ------------------------------------------------------------------------------ known-source links
def test_a_source_link_is_made_stored_as_a_hash_and_audited(staff: Any) -> None:
    add_customer()
    answer = ok(
        staff(
            "admin_customers_source_link",
            {"customer_id": CUSTOMER},
            data={"vehicle_id": VEHICLE.id, "campaign": "fall-brakes"},
        ),
        201,
    )
    assert answer["url"] == f"{PUBLIC_BASE_URL}/book?src={answer['source_token']}"
    link = SourceLinkRepository(_stack[0].table_name, REGION).get(hash_token(answer["source_token"]))
    assert link is not None and (link.customer_id, link.vehicle_id, link.campaign) == (
        CUSTOMER,
        VEHICLE.id,
        "fall-brakes",
    )
    [entry] = audits(CUSTOMER)
    assert entry["action"] == "customer.source_link"
    assert answer["source_token"] not in json.dumps(entry)


@pytest.mark.parametrize(
    ("customer_id", "data", "status", "code"),
    [
        ("nobody", {}, 404, "not_found"),
        (CUSTOMER, {"vehicle_id": "e" * 20}, 422, "validation_error"),
        (CUSTOMER, {"campaign": "Not A Slug"}, 422, "validation_error"),
        (CUSTOMER, {"days": 3}, 422, "validation_error"),
    ],
)
def test_bad_source_links_are_4xx_and_store_nothing(
    staff: Any, customer_id: str, data: dict[str, Any], status: int, code: str
) -> None:
    add_customer()
    before = whole_items()
    error_of(staff("admin_customers_source_link", {"customer_id": customer_id}, data=data), status, code)
    assert whole_items() == before


# ------------------------------------------------------------------------------ proposed changes
def returning_booking(post: Post) -> None:
    """The customer on file books with another last name and a new e-mail: two proposals."""
    add_customer()
    book(
        post, {"first_name": "Pat", "last_name": "Returned", "phone": PHONE, "email": "pat.other@example.com"}
    )


def pending(staff: Any, **query: str) -> dict[str, Any]:
    answer: dict[str, Any] = ok(staff("admin_proposed_changes_list", query=query or None))
    return answer


def test_accept_applies_the_change_like_an_edit_and_reject_closes_it(staff: Any, post: Post) -> None:
    returning_booking(post)
    queue = pending(staff)["proposed_changes"]
    by_field = {p["field"]: p for p in queue}
    assert set(by_field) == {"last_name", "email"}
    assert by_field["email"]["proposed"] == "pat.other@example.com"

    # Accept the e-mail: the profile, the lookups (new one added, old one gone) and the name search.
    answer = ok(
        staff("admin_proposed_changes_decide", {"change_id": by_field["email"]["id"], "decision": "accept"})
    )
    assert answer["proposed_change"]["status"] == "accepted"
    assert answer["customer"]["email"] == "pat.other@example.com"
    assert profile_item(CUSTOMER).body["email"] == "pat.other@example.com"
    assert lookup(EMAIL) is None
    accepted_lookup = lookup("pat.other@example.com")
    assert accepted_lookup is not None and accepted_lookup.customer_id == CUSTOMER
    phone_item = lookup(PHONE)
    assert phone_item is not None and phone_item.summary["email"] == "pat.other@example.com"

    # Reject the name: the profile keeps it.
    answer = ok(
        staff(
            "admin_proposed_changes_decide", {"change_id": by_field["last_name"]["id"], "decision": "reject"}
        )
    )
    assert answer["proposed_change"]["status"] == "rejected" and answer["customer"] is None
    assert profile_item(CUSTOMER).body["last_name"] == "Returning"

    stored = {item.body["field"]: item for item in ProposedChangeItem.query(keys.customer_pk(CUSTOMER))}
    assert {f: (i.status, i.body["status"], i.gsi3pk) for f, i in stored.items()} == {
        "email": ("accepted", "accepted", "PROPOSED#accepted"),
        "last_name": ("rejected", "rejected", "PROPOSED#rejected"),
    }
    assert pending(staff)["proposed_changes"] == []
    assert [e["action"] for e in audits(CUSTOMER)] == ["proposed_change.accept", "proposed_change.reject"]
    assert audits(CUSTOMER)[0]["changes"] == {"email": {"before": EMAIL, "after": "pat.other@example.com"}}

    # Decided ones cannot be decided again: 409, nothing changes.
    before = whole_items()
    for field, action in (("email", "reject"), ("last_name", "accept")):
        error_of(
            staff("admin_proposed_changes_decide", {"change_id": by_field[field]["id"], "decision": action}),
            409,
            "invalid_transition",
        )
    assert whole_items() == before


def test_accepting_a_name_moves_the_customer_in_the_name_search(staff: Any, post: Post) -> None:
    returning_booking(post)
    name = next(p for p in pending(staff)["proposed_changes"] if p["field"] == "last_name")
    ok(staff("admin_proposed_changes_decide", {"change_id": name["id"], "decision": "accept"}))
    assert [c["id"] for c in ok(staff("admin_customers_search", query={"q": "returned"}))["customers"]] == [
        CUSTOMER
    ]
    assert audits(CUSTOMER)[0]["changes"] == {"last_name": {"before": "Returning", "after": "Returned"}}


def test_accepting_a_contact_that_became_another_customers_is_409(staff: Any, post: Post) -> None:
    returning_booking(post)
    email = next(p for p in pending(staff)["proposed_changes"] if p["field"] == "email")
    add_customer("c0ffee0000000002", "+15125550198", "pat.other@example.com")
    before = whole_items()
    error_of(
        staff("admin_proposed_changes_decide", {"change_id": email["id"], "decision": "accept"}),
        409,
        "contact_in_use",
    )
    assert whole_items() == before


def test_the_queue_pages_oldest_first(staff: Any, post: Post) -> None:
    returning_booking(post)
    book(post, {"first_name": "Patricia", "last_name": "Returning", "phone": PHONE, "email": EMAIL}, 11)
    first = pending(staff, limit="2")
    assert len(first["proposed_changes"]) == 2 and first["next_cursor"]
    second = pending(staff, limit="2", cursor=first["next_cursor"])
    fields = [p["field"] for p in first["proposed_changes"] + second["proposed_changes"]]
    assert sorted(fields) == ["email", "first_name", "last_name"]
    assert fields[-1] == "first_name"  # the later booking's
    error_of(staff("admin_proposed_changes_list", query={"cursor": "e30"}), 400, "invalid_cursor")


@pytest.mark.parametrize(
    ("change_id", "action", "status"),
    [
        ("bm90LWEtY2hhbmdl", "accept", 404),
        ("%%%", "reject", 404),
        (
            "YzBmZmVlMDAwMDAwMDAwMQpQUk9QT1NFRCMyMDI2LTExLTIzVDEwOjAwOjAwKzAwOjAwIzAxOGYzYTJiNGM1ZDllOGY3YTZiNWM0ZA",
            "accept",
            404,
        ),
        ("YzBmZmVlMDAwMDAwMDAwMQ", "approve", 422),
    ],
)
def test_unknown_changes_and_actions_are_4xx(staff: Any, change_id: str, action: str, status: int) -> None:
    add_customer()
    response = staff("admin_proposed_changes_decide", {"change_id": change_id, "decision": action})
    assert response["statusCode"] == status, response["body"]


# ------------------------------------------------------------------------------ logs
def test_no_phone_email_name_or_token_reaches_the_logs(
    staff: Any, post: Post, admin_app: ModuleType, capfd: pytest.CaptureFixture[str]
) -> None:
    lines: list[str] = []
    formatter = admin_app.logger.registered_formatter

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))
            lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))

    keep = Keep(logging.DEBUG)
    root = logging.getLogger()
    previous = (admin_app.logger.log_level, root.level)
    admin_app.logger.setLevel("DEBUG")
    root.setLevel(logging.INFO)  # (DEBUG would show botocore's request bodies, which Lambda does not log)
    admin_app.logger.addHandler(keep)
    root.addHandler(keep)
    try:
        returning_booking(post)
        for q in (PHONE, EMAIL, "Returning"):
            ok(staff("admin_customers_search", query={"q": q}))
        ok(staff("admin_customers_patch", {"customer_id": CUSTOMER}, data={"phone": "512-555-0177"}))
        ok(staff("admin_customers_patch", {"customer_id": CUSTOMER}, data={"email": "Pat.New@example.com"}))
        link = ok(staff("admin_customers_source_link", {"customer_id": CUSTOMER}, data={}), 201)
        for change in pending(staff)["proposed_changes"]:
            staff("admin_proposed_changes_decide", {"change_id": change["id"], "decision": "accept"})
        get_customer(staff, CUSTOMER)
    finally:
        admin_app.logger.removeHandler(keep)
        root.removeHandler(keep)
        admin_app.logger.setLevel(previous[0])
        root.setLevel(previous[1])
    out, err = capfd.readouterr()
    text = "\n".join(lines) + out + err
    assert "customer edited" in text  # the handler did see the service's lines
    for secret in (
        PHONE,
        "5550199",
        "+15125550177",
        "555-0177",
        EMAIL,
        "pat.new@example.com",
        "Pat.New",
        "pat.other@example.com",
        "Returned",
        link["source_token"],
    ):
        assert secret.lower() not in text.lower(), secret
