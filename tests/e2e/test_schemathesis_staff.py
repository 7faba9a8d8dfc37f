"""Property-based tests of every staff route, writes included: schemathesis against a local stack of
this module's own (``python -m bookbay_local --port 0``), so the cancellations, deletions and
settings changes it makes never reach the session's shared stack and the other e2e tests (it starts
its own one also when BOOKBAY_E2E_URL points the others at a running `make run`).

The stack is seeded over HTTP first (phone bookings, online bookings awaiting confirmation, a
checked-in and a completed appointment with its review request, proposed changes, flags, blocks).
Generated requests then use those records' ids in most path parameters (else the generated value:
malformed, unknown, or sometimes the id of another kind of record), so the actions, edits and
deletions run on real records as well as on nonsense. Checks, as in test_schemathesis.py: no 5xx,
the status code is documented, the content type is the documented one, and the body conforms to
the documented schema. Hand-made nasty requests follow (huge, nested, null, centuries-away,
percent-encoded slashes).

The stack's output: tests/e2e/artifacts/local-stack-staff.log; the tally:
tests/e2e/artifacts/schemathesis-staff.json.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.booking import SERVICE, closed, first_day, post_booking
from tests.e2e.conftest import ARTIFACTS, ROOT, started_stack, worker_log_path

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

COMMITTED_DOCUMENT = ROOT / "layers" / "common" / "bookbay" / "openapi.json"
ADMIN_PREFIX = "/v1/admin"
# Generated cases per operation: bounded, so the module stays well under a minute (a deeper run:
# BOOKBAY_STAFF_FUZZ_EXAMPLES=200).
MAX_EXAMPLES = int(os.environ.get("BOOKBAY_STAFF_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STAFF_CLAIMS = {"sub": "schemathesis-staff", "email": "fuzz@example.com", "groups": ["staff"]}
KNOWN_ID_SHARE = 0.75  # of the id path parameters that get a seeded record's id
OTHER_KIND_SHARE = 0.1  # of those, the id of another kind of record
VEHICLE = {"year": 2020, "make": "Ford", "model": "Focus"}
ADDRESS = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
TALLY: dict[str, Counter[str]] = {"cases": Counter(), "statuses": Counter()}
FAILURES: list[dict[str, Any]] = []


# ------------------------------------------------------------------------------ this module's stack
@pytest.fixture(scope="module")
def own_stack() -> Iterator[str]:
    """A local stack for this module alone (its base URL; one per xdist worker that runs some of
    its tests), stopped after it."""
    with started_stack(worker_log_path("local-stack-staff")) as stack:
        yield stack.base_url


@pytest.fixture(scope="module")
def staff_client(own_stack: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=own_stack, timeout=30) as client:
        token = client.post("/_local/token", json=STAFF_CLAIMS)
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        yield client


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json()


def _free_starts(client: httpx.Client, day: date) -> list[str]:
    query: dict[str, str | int] = {**SERVICE, "from": day.isoformat(), "days": 1}
    return [slot["start"] for slot in _ok(client.get("/v1/availability", params=query))["slots"]]


@pytest.fixture(scope="module")
def known_ids(staff_client: httpx.Client) -> dict[str, list[str]]:
    """Seed the stack over HTTP; the ids of what it holds, by path parameter name."""
    client = staff_client
    today = datetime.now(UTC).date()
    days = [first_day(today + timedelta(days=3), lambda d: not closed(d))]
    for _ in range(3):
        days.append(first_day(days[-1] + timedelta(days=1), lambda d: not closed(d)))
    appointments: list[str] = []
    customers: list[str] = []
    for n, day in enumerate(days):
        starts = _free_starts(client, day)
        person = {
            "first_name": f"Fuzz{n}",
            "last_name": "Staff",
            "phone": f"+1512555{7100 + n:04d}",
            "email": f"fuzz.staff{n}@example.com",
        }
        phone = {**SERVICE, "start": starts[0], "customer": person, "vehicle": VEHICLE, "source": "phone"}
        booked = _ok(client.post("/v1/admin/appointments", json=phone), 201)["appointment"]
        appointments.append(booked["id"])
        customers.append(booked["customer"]["id"])
        online = {
            **phone,
            "start": starts[1],
            "source": "web",
            "customer": {**person, "phone": f"+1512555{7200 + n:04d}", "email": f"fuzz.web{n}@example.com"},
        }
        # The public route, as a customer books (tests/e2e/booking.py): without the staff token,
        # from an address of their own, with their e-mail's one-time code where the shop asks
        response = post_booking(client, online)
        appointments.append(_ok(response, 201)["appointment"]["id"])
        # The same phone under another name and e-mail: proposed changes for staff.
        again = {
            **phone,
            "start": starts[2],
            "customer": {**person, "first_name": f"Other{n}", "email": f"o{n}@example.com"},
        }
        appointments.append(_ok(client.post("/v1/admin/appointments", json=again), 201)["appointment"]["id"])
    # A checked-in appointment, and a completed one (a review request).
    for appointment_id, actions in (
        (appointments[0], ["check-in"]),
        (appointments[3], ["check-in", "complete"]),
    ):
        for action in actions:
            _ok(client.post(f"/v1/admin/appointments/{appointment_id}/{action}"))
    flags = [
        _ok(client.post("/v1/admin/flags", json=body), 201)["flag"]["id"]
        for body in (
            {"name": "Dana Rivera", "phone": "+15125550142", "reason": "fuzz"},
            {"email": "flagged@example.com", "address": ADDRESS, "reason": "fuzz"},
        )
    ]
    blocks = []
    for day in days[1:3]:
        start = datetime.fromisoformat(_free_starts(client, day)[-1])
        body = {
            "location_id": SERVICE["location_id"],
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }
        blocks.append(_ok(client.post("/v1/admin/blocks", json=body), 201)["block"]["id"])
    changes = [c["id"] for c in _ok(client.get("/v1/admin/proposed-changes"))["proposed_changes"]]
    reviews = [r["id"] for r in _ok(client.get("/v1/admin/review-requests"))["review_requests"]]
    assert changes and reviews, (changes, reviews)
    return {
        "appointment_id": appointments,
        "customer_id": customers,
        "flag_id": flags,
        "block_id": blocks,
        "change_id": changes,
        "request_id": reviews,
    }


@pytest.fixture(scope="module")
def served_document(own_stack: str, request: pytest.FixtureRequest) -> None:
    """The stack serves the document the cases come from."""
    request.addfinalizer(report)  # noqa: PT021 - also when the set-up fails
    served = httpx.get(f"{own_stack}/swagger?format=json", timeout=10).json()
    committed = json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8"))
    served.pop("servers", None)
    committed.pop("servers", None)
    assert served == committed, (
        "the stack does not serve layers/common/bookbay/openapi.json: run `make openapi`"
    )


def report() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "cases": sum(TALLY["cases"].values()),
        "failures": len(FAILURES),
        "max_examples_per_operation": MAX_EXAMPLES,
        "cases_by_operation": dict(sorted(TALLY["cases"].items())),
        "status_codes": dict(sorted(TALLY["statuses"].items())),
        "failure_details": FAILURES[:50],
    }
    (ARTIFACTS / "schemathesis-staff.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def with_known_ids(case: schemathesis.Case[Any], known: dict[str, list[str]]) -> None:
    """Put seeded ids into most of the case's id path parameters (chosen from the case itself, so
    a run is repeatable); a few get an id of another kind of record."""
    parameters = case.path_parameters or {}
    chooser = random.Random(repr((case.operation.label, sorted(parameters.items()), case.body, case.query)))
    everything = [value for values in known.values() for value in values]
    for name in parameters:
        if name in known and chooser.random() < KNOWN_ID_SHARE:
            pool = everything if chooser.random() < OTHER_KIND_SHARE else known[name]
            parameters[name] = chooser.choice(pool)


# ------------------------------------------------------------------------------ the generated cases
document = schemathesis.openapi.from_path(COMMITTED_DOCUMENT)
document.config.generation.update(
    max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False, database="none"
)
document.config.update(request_timeout=15)
schema = document.include(lambda ctx: ctx.operation.path.startswith(ADMIN_PREFIX))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
def test_staff_routes_conform_to_their_document(
    case: schemathesis.Case[Any],
    own_stack: str,
    served_document: None,
    staff_client: httpx.Client,
    known_ids: dict[str, list[str]],
) -> None:
    with_known_ids(case, known_ids)
    headers = {"Authorization": staff_client.headers["Authorization"]}
    label = f"{case.operation.method.upper()} {case.operation.path}"
    response = case.call(base_url=own_stack, headers=headers)
    TALLY["cases"][label] += 1
    TALLY["statuses"][str(response.status_code)] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except BaseException as exc:  # FailureGroup is an exception group
        FAILURES.append(
            {
                "operation": label,
                "method": case.method,
                "status": response.status_code,
                "error": str(exc)[:2000],
                "curl": case.as_curl_command(headers={"Authorization": "Bearer <token>"}, base_url=own_stack),
            }
        )
        raise


# ------------------------------------------------------------------------------ hand-made nasty input
def _nasty_requests(known: dict[str, list[str]]) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body or raw bytes) that must each be a 4xx JSON error."""
    appointment, customer, flag = known["appointment_id"][1], known["customer_id"][0], known["flag_id"][0]
    change, review = known["change_id"][-1], known["request_id"][0]
    deep = b"[" * 50_000 + b"]" * 50_000
    huge = "x" * 1_000_000
    return [
        ("PATCH", f"/v1/admin/appointments/{appointment}", {"start": None}),
        (
            "PATCH",
            f"/v1/admin/appointments/{appointment}",
            {"start": "9999-12-31T23:59:59-14:00", "notes": "n"},
        ),
        ("PATCH", f"/v1/admin/appointments/{appointment}", {"start": "0001-01-01T00:00:00+14:00"}),
        ("PATCH", f"/v1/admin/appointments/{appointment}", {"notes": huge}),
        ("PATCH", f"/v1/admin/appointments/{appointment}", deep),
        ("POST", f"/v1/admin/appointments/{appointment}/cancel", {"notify": "maybe", "reason": None}),
        ("POST", f"/v1/admin/appointments/{appointment}%2Fcancel/confirm", None),
        ("POST", f"/v1/admin/appointments/{customer}/confirm", None),  # a customer's id
        ("POST", "/v1/admin/appointments", deep),
        ("POST", "/v1/admin/appointments", b"\xff\xfe"),
        ("POST", "/v1/admin/appointments", {**SERVICE, "start": "9999-12-31T23:59:59-14:00"}),
        ("GET", "/v1/admin/appointments?from=9999-12-31", None),
        ("PATCH", f"/v1/admin/customers/{customer}", {"first_name": "\u0000"}),
        ("PATCH", f"/v1/admin/customers/{customer}", {"first_name": None}),
        ("PATCH", f"/v1/admin/customers/{flag}", {"first_name": "Pat"}),  # a flag's id
        ("POST", f"/v1/admin/customers/{customer}/source-links", {"vehicle_id": "../../x"}),
        ("POST", "/v1/admin/flags", {"reason": "r", "name": "\u200b \u200b"}),
        ("DELETE", f"/v1/admin/flags/{flag}/fields/everything", None),
        ("DELETE", f"/v1/admin/flags/{appointment}", None),  # an appointment's id
        ("DELETE", "/v1/admin/blocks/..%2F..%2Fsettings", None),
        (
            "POST",
            "/v1/admin/blocks",
            {
                "location_id": SERVICE["location_id"],
                "start": "9999-12-31T23:59:59Z",
                "end": "9999-12-31T23:59:59-14:00",
            },
        ),
        ("POST", f"/v1/admin/proposed-changes/{change}/maybe", None),
        ("POST", f"/v1/admin/proposed-changes/{change}%3D%3D/accept", None),
        ("POST", f"/v1/admin/review-requests/{review}%00/stop", None),
        ("PATCH", "/v1/admin/settings", {"version": 10**30, "changes": {"horizon_days": 10**30}}),
    ]


def test_hand_made_nasty_requests_are_4xx_json_errors(
    staff_client: httpx.Client, known_ids: dict[str, list[str]]
) -> None:
    problems = []
    for method, path, data in _nasty_requests(known_ids):
        raw = data if isinstance(data, bytes) else None if data is None else json.dumps(data).encode()
        headers = {"Content-Type": "application/json"} if raw is not None else {}
        response = staff_client.request(method, path, content=raw, headers=headers)
        error = response.json().get("error", {}) if "json" in response.headers.get("content-type", "") else {}
        if not 400 <= response.status_code < 500 or not error.get("code"):
            problems.append(f"{method} {path[:100]} -> {response.status_code} {response.text[:200]}")
    assert not problems, "\n".join(problems)
