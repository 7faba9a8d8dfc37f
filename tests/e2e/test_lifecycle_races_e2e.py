"""Lifecycle races over HTTP on the local stack (issue 13): two staff actions on one appointment at
the same moment, and one booking sent eight times at once.

- confirm against cancel (20 rounds): exactly one wins with a 200, the other is a 409
  (``invalid_transition`` is the target; ``concurrent_update`` is recorded where it comes); the
  appointment as stored is the winner's whole change: cancelled, its slot free again and no
  e-confirmation sent; confirmed, one e-confirmation and one audit entry for it;
- two staff members confirming at once: one 200, one 409, one e-confirmation, one audit entry;
- reschedule (PATCH ``start``) against check-in: the outcome of some order of the two, whole
  (reschedule then check-in: both 200; check-in first: the reschedule a 409), the slots' capacity
  agreeing with it;
- eight ``POST /v1/appointments`` at once with one Idempotency-Key and one body: one appointment,
  every answer the 201 with its id or a 409 ``request_in_progress``.

The appointments are requested ones (the shop in request mode; switched for the module if it is
not, and put back). Every customer has a phone on no customer yet and sends from a loopback
address of its own (so no client's per-IP limits are touched); where the shop requires a code,
the customer verifies its e-mail first (tests/e2e/booking.py: the code read from
/_local/messages). Slots are Phoenix
Camelback's from 30 days ahead, each taken while both its places are free and by one round only.
Each round's outcome goes to tests/e2e/artifacts/lifecycle-races.txt; the rounds all run and the
test fails at the end with every round that went wrong.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bookbay.shopfile import read_shop_file
from tests.e2e.booking import (
    address_of,
    authorization,
    client_from,
    loopback,
    phone_on_no_customer,
    post_booking,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "e2e" / "artifacts" / "lifecycle-races.txt"
LOCATION = "phoenix-camelback"
PHOENIX = ZoneInfo("America/Phoenix")
SERVICE = {"location_id": LOCATION, "service_id": "oil-change", "appointment_type": "in_store"}
_location = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml").location(LOCATION)
assert _location is not None
CAPACITY = _location.capacity_per_slot
DAYS_AHEAD = 30
AREA_CODES = ("480", "520", "623", "928")  # Arizona numbers no other e2e test uses
CONFIRM_CANCEL_ROUNDS = 20
DOUBLE_CONFIRM_ROUNDS = 5
RESCHEDULE_CHECK_IN_ROUNDS = 5
SAME_KEY_ROUNDS = 3
SAME_KEY_REQUESTS = 8
LOSER_CODES = ("invalid_transition", "concurrent_update")
TARGET_LOSER_CODE = "invalid_transition"

# Customer e-mails by kind (services.notifications), told apart by their subjects.
SUBJECTS = {
    "requested": "We received your appointment request",
    "confirmed": "Your appointment is confirmed",
    "moved": "Your appointment has been moved",
    "cancelled": "has been cancelled",
}


# ------------------------------------------------------------------------------ the stack's messages
class Outbox:
    """The messages the stack sent, read once its outbox is delivered (POST /_local/streams/drain).

    An outbox that does not drain is a failure of the round that reads it, not of the whole test:
    after the first one, drains wait only briefly, so the other rounds still run."""

    def __init__(self) -> None:
        self.stuck = False

    def messages_to(self, http: httpx.Client, to: str) -> tuple[list[dict[str, Any]], bool]:
        """The messages to ``to``, oldest first; and whether the outbox was delivered."""
        timeout = 3 if self.stuck else 30
        drained = http.post("/_local/streams/drain", json={"timeout_seconds": timeout}).json()
        self.stuck = drained != {"drained": True}
        sent = [m for m in http.get("/_local/messages").json()["messages"] if m["to"] == to]
        return sent, not self.stuck


OUTBOX = Outbox()


# ------------------------------------------------------------------------------ clients and people
@dataclass(frozen=True)
class Customer:
    http: httpx.Client
    last_name: str
    phone: str
    email: str

    @property
    def contact(self) -> dict[str, str]:
        return {"first_name": "Lane", "last_name": self.last_name, "phone": self.phone, "email": self.email}

    def client(self) -> httpx.Client:
        """A client from the customer's own loopback address."""
        return client_from(self.http, address_of(self.contact))

    def booking(self, start: str) -> dict[str, Any]:
        return {
            **SERVICE,
            "start": start,
            "customer": self.contact,
            "vehicle": {"year": 2021, "make": "Subaru", "model": "Outback"},
            "source": "e2e-lifecycle-race",
            "preferred_channel": "email",
        }

    def messages(self, http: httpx.Client, check: Round) -> Counter[str]:
        """The customer's e-mails so far, by kind (an outbox that did not drain fails ``check``)."""
        sent_to, drained = OUTBOX.messages_to(http, self.email)
        check.expect(drained, "the outbox was delivered (POST /_local/streams/drain)")
        kinds: Counter[str] = Counter()
        for message in sent_to:
            subject = message["subject"] or ""
            kinds.update(kind for kind, words in SUBJECTS.items() if words in subject)
        return kinds


@dataclass
class People:
    """Customers with phones on no customer yet, each from its own address."""

    http: httpx.Client
    staff: dict[str, str]
    taken: set[str] = field(default_factory=set)

    def customer(self) -> Customer:
        return Customer(
            http=self.http,
            last_name=f"Race{uuid.uuid4().hex[:8]}",
            phone=phone_on_no_customer(self.http, self.staff, AREA_CODES, self.taken),
            email=f"lifecycle-race-{uuid.uuid4().hex[:10]}@example.com",
        )

    def authorization(self, customer: Customer) -> dict[str, str]:
        """The headers a booking of ``customer`` needs: a verification token where the shop asks."""
        return authorization(self.http, customer.contact)

    def book(self, customer: Customer, start: str) -> dict[str, Any]:
        """The customer books ``start`` (verifying a code first when the shop requires one)."""
        booked = post_booking(self.http, customer.booking(start))
        assert booked.status_code == 201, booked.text
        appointment: dict[str, Any] = booked.json()["appointment"]
        return appointment


@dataclass(frozen=True)
class Staff:
    name: str
    headers: dict[str, str]
    address: str


def staff_member(http: httpx.Client, sub: str) -> Staff:
    token = http.post("/_local/token", json={"sub": sub, "email": f"{sub}@example.com", "groups": ["staff"]})
    assert token.status_code == 200, token.text
    return Staff(sub, {"Authorization": f"Bearer {token.json()['token']}"}, loopback())


def staff_call(
    base_url: str, who: Staff, method: str, path: str, body: dict[str, Any] | None = None
) -> Callable[[], httpx.Response]:
    def call() -> httpx.Response:
        with httpx.Client(
            base_url=base_url, timeout=60, transport=httpx.HTTPTransport(local_address=who.address)
        ) as own:
            return own.request(method, path, json=body, headers=who.headers)

    return call


def booking_call(
    customer: Customer, body: dict[str, Any], headers: dict[str, str]
) -> Callable[[], httpx.Response]:
    """POST /v1/appointments from the customer's address (its browser retrying, on a new connection)."""

    def call() -> httpx.Response:
        with customer.client() as own:
            return own.post("/v1/appointments", json=body, headers=headers)

    return call


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Every call at the same moment, each from its own thread."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def code_of(response: httpx.Response) -> str:
    if response.status_code < 400:
        return ""
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"<{response.text[:80]}>"


def answer(response: httpx.Response) -> str:
    return f"{response.status_code}{' ' + code_of(response) if code_of(response) else ''}"


# ------------------------------------------------------------------------------ the stack's side
class Slots:
    """Phoenix Camelback's oil-change slots from DAYS_AHEAD on, each handed out once, and only
    while both its places are free."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.day = datetime.now(PHOENIX).date() + timedelta(days=DAYS_AHEAD)
        self.given: set[str] = set()

    def take(self) -> str:
        for _ in range(40):
            for slot in day_slots(self.http, self.day):
                if slot["start"] not in self.given and slot["remaining"] == CAPACITY:
                    self.given.add(slot["start"])
                    return str(slot["start"])
            self.day += timedelta(days=1)
        raise AssertionError("no free slot left within the horizon: restart the stack")


def day_slots(http: httpx.Client, day: date) -> list[dict[str, Any]]:
    response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()["slots"]
    return slots


def remaining(http: httpx.Client, start: str) -> int:
    """The places left at ``start`` as availability shows them (0 when it shows no such slot)."""
    day = datetime.fromisoformat(start).date()
    return next((int(s["remaining"]) for s in day_slots(http, day) if s["start"] == start), 0)


def read(http: httpx.Client, staff: Staff, appointment_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/admin/appointments/{appointment_id}", headers=staff.headers)
    assert response.status_code == 200, response.text
    appointment: dict[str, Any] = response.json()["appointment"]
    return appointment


def history(appointment: dict[str, Any]) -> Counter[str]:
    return Counter(entry["action"] for entry in appointment.get("history") or [])


def appointments_of(http: httpx.Client, staff: Staff, day: date, email: str) -> list[dict[str, Any]]:
    """The store's appointments on ``day`` (the staff list, every page) booked with ``email``."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"from": day.isoformat(), "to": day.isoformat(), "location_id": LOCATION}
        params["limit"] = 100
        if cursor:
            params["cursor"] = cursor
        page = http.get("/v1/admin/appointments", params=params, headers=staff.headers)
        assert page.status_code == 200, page.text
        found += [a for a in page.json()["appointments"] if a["customer"]["email"] == email]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return found


# ------------------------------------------------------------------------------ rounds and the report
@dataclass
class Round:
    """One round's checks: each failed one is kept (with what was seen), none stops the others."""

    name: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            self.problems.append(what)

    def note(self, fact: str) -> None:
        self.facts.append(fact)

    def line(self) -> str:
        verdict = "OK" if not self.problems else "FAILED: " + "; ".join(self.problems)
        return f"{self.name}: {', '.join(self.facts)} -> {verdict}"


class Report:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Lifecycle races on the local stack, {datetime.now(PHOENIX):%Y-%m-%d %H:%M %Z}\n")

    def write(self, text: str) -> None:
        with self.path.open("a") as out:
            out.write(text + "\n")


@pytest.fixture(scope="module")
def report() -> Report:
    return Report(REPORT)


@pytest.fixture(scope="module")
def shop_settings(http: httpx.Client, staff: dict[str, str], report: Report) -> Iterator[dict[str, Any]]:
    """The shop's settings, in request mode for the module (switched and put back if it was not)."""
    current = http.get("/v1/admin/settings", headers=staff)
    assert current.status_code == 200, current.text
    settings: dict[str, Any] = current.json()["settings"]
    mode = settings["booking_mode"]
    report.write(f"shop: booking_mode {mode}, require_verification {settings['require_verification']}")
    if mode == "request":
        yield settings
        return
    changed = http.patch("/v1/admin/settings", json={"changes": {"booking_mode": "request"}}, headers=staff)
    assert changed.status_code == 200, changed.text
    report.write("shop: switched to request mode for these tests")
    try:
        yield {**settings, "booking_mode": "request"}
    finally:
        back = http.patch("/v1/admin/settings", json={"changes": {"booking_mode": mode}}, headers=staff)
        assert back.status_code == 200, back.text


@pytest.fixture(scope="module")
def people(http: httpx.Client, staff: dict[str, str], shop_settings: dict[str, Any]) -> People:
    """The module's customers (once ``shop_settings`` has put the shop in request mode)."""
    return People(http, staff)


@pytest.fixture(scope="module")
def slots(http: httpx.Client) -> Slots:
    return Slots(http)


@pytest.fixture(scope="module")
def desk(http: httpx.Client) -> tuple[Staff, Staff]:
    """Two staff members, each at a computer (a loopback address) of their own."""
    return staff_member(http, "e2e-lifecycle-races-ana"), staff_member(http, "e2e-lifecycle-races-ben")


def finish(report: Report, title: str, rounds: list[Round], summary: str) -> None:
    report.write(f"{title}: {summary}")
    failed = [r.line() for r in rounds if r.problems]
    assert not failed, "\n".join(failed)


# ------------------------------------------------------------------------------ the tests
WINNER_STATUS = {"confirm": "confirmed", "cancel": "cancelled"}


def test_confirm_against_cancel_applies_exactly_one_of_them_whole(
    local_stack: Any,
    http: httpx.Client,
    people: People,
    slots: Slots,
    desk: tuple[Staff, Staff],
    report: Report,
) -> None:
    ana, ben = desk
    rounds: list[Round] = []
    loser_codes: Counter[str] = Counter()
    winners: Counter[str] = Counter()
    for n in range(1, CONFIRM_CANCEL_ROUNDS + 1):
        check = Round(f"confirm-vs-cancel {n:02d}")
        rounds.append(check)
        customer = people.customer()
        start = slots.take()
        free_before = remaining(http, start)
        appointment = people.book(customer, start)
        assert appointment["status"] == "requested", appointment
        held = remaining(http, start)

        # When one staff member confirms it and another cancels it, at the same moment
        confirm, cancel = at_once(
            [
                staff_call(
                    local_stack.base_url, ana, "POST", f"/v1/admin/appointments/{appointment['id']}/confirm"
                ),
                staff_call(
                    local_stack.base_url, ben, "POST", f"/v1/admin/appointments/{appointment['id']}/cancel"
                ),
            ]
        )
        answers = {"confirm": confirm, "cancel": cancel}
        check.note(f"confirm {answer(confirm)}, cancel {answer(cancel)}")

        # Then exactly one of them is a 200 and the other a 409 ...
        won = [action for action, r in answers.items() if r.status_code == 200]
        lost = [action for action, r in answers.items() if r.status_code != 200]
        check.expect(
            len(won) == 1 and len(lost) == 1,
            f"one 200 and one 409 (got {[answer(r) for r in answers.values()]})",
        )
        for action in lost:
            code = code_of(answers[action])
            loser_codes[code] += 1
            check.expect(
                answers[action].status_code == 409 and code in LOSER_CODES, f"{action}: 409 {LOSER_CODES}"
            )
        # ... and the appointment is the winner's whole change
        stored = read(http, ana, appointment["id"])
        entries = history(stored)
        sent = customer.messages(http, check)
        now_free = remaining(http, start)
        check.note(
            f"status {stored['status']}, slot remaining {now_free} (before booking {free_before}, "
            f"booked {held}), e-mails {dict(sent)}, history {dict(entries)}"
        )
        check.expect(held == free_before - 1, "the booking holds one place")
        check.expect(sent["requested"] == 1, "the booking's request e-mail reached the customer")
        if len(won) == 1:
            (winner,) = won
            (loser,) = lost
            winners[winner] += 1
            check.expect(stored["status"] == WINNER_STATUS[winner], f"status {WINNER_STATUS[winner]}")
            check.expect(
                entries[winner] == 1 and entries[loser] == 0, f"one {winner} and no {loser} in the history"
            )
            if winner == "cancel":
                check.expect(now_free == free_before, "the cancelled appointment's place is free again")
                check.expect(sent["confirmed"] == 0, "no e-confirmation after the cancel won")
                check.expect(sent["cancelled"] == 1, "one cancellation e-mail")
            else:
                check.expect(now_free == free_before - 1, "the confirmed appointment still holds its place")
                check.expect(sent["confirmed"] == 1, "exactly one e-confirmation")
                check.expect(sent["cancelled"] == 0, "no cancellation e-mail")
        report.write(check.line())

    finish(
        report,
        "confirm-vs-cancel",
        rounds,
        f"{CONFIRM_CANCEL_ROUNDS} rounds, winners {dict(winners)}, the losers' codes {dict(loser_codes)} "
        f"(target {TARGET_LOSER_CODE}: {loser_codes[TARGET_LOSER_CODE]} of {sum(loser_codes.values())})",
    )


def test_two_staff_confirming_at_once_confirm_it_once(
    local_stack: Any,
    http: httpx.Client,
    people: People,
    slots: Slots,
    desk: tuple[Staff, Staff],
    report: Report,
) -> None:
    rounds: list[Round] = []
    loser_codes: Counter[str] = Counter()
    for n in range(1, DOUBLE_CONFIRM_ROUNDS + 1):
        check = Round(f"confirm-vs-confirm {n:02d}")
        rounds.append(check)
        customer = people.customer()
        start = slots.take()
        appointment = people.book(customer, start)
        assert appointment["status"] == "requested", appointment
        path = f"/v1/admin/appointments/{appointment['id']}/confirm"

        responses = at_once([staff_call(local_stack.base_url, who, "POST", path) for who in desk])

        check.note(" / ".join(f"{who.name} {answer(r)}" for who, r in zip(desk, responses, strict=True)))
        statuses = sorted(r.status_code for r in responses)
        check.expect(statuses == [200, 409], "one 200 and one 409")
        for r in responses:
            if r.status_code != 200:
                loser_codes[code_of(r)] += 1
                check.expect(code_of(r) in LOSER_CODES, f"the loser's code in {LOSER_CODES}")
        stored = read(http, desk[0], appointment["id"])
        sent = customer.messages(http, check)
        confirmers = [e["actor"]["sub"] for e in stored.get("history") or [] if e["action"] == "confirm"]
        winners = [who.name for who, r in zip(desk, responses, strict=True) if r.status_code == 200]
        check.note(f"status {stored['status']}, e-mails {dict(sent)}, confirmed by {confirmers}")
        check.expect(stored["status"] == "confirmed", "status confirmed")
        check.expect(confirmers == winners, "one confirm in the history, by the staff member answered 200")
        check.expect(sent["confirmed"] == 1, "exactly one e-confirmation")
        report.write(check.line())

    finish(
        report,
        "confirm-vs-confirm",
        rounds,
        f"{DOUBLE_CONFIRM_ROUNDS} rounds, the losers' codes {dict(loser_codes)}",
    )


def test_reschedule_against_check_in_ends_in_the_outcome_of_one_order(
    local_stack: Any,
    http: httpx.Client,
    people: People,
    slots: Slots,
    desk: tuple[Staff, Staff],
    report: Report,
) -> None:
    ana, ben = desk
    rounds: list[Round] = []
    outcomes: Counter[str] = Counter()
    for n in range(1, RESCHEDULE_CHECK_IN_ROUNDS + 1):
        check = Round(f"reschedule-vs-check-in {n:02d}")
        rounds.append(check)
        customer = people.customer()
        old, new = slots.take(), slots.take()
        free_old, free_new = remaining(http, old), remaining(http, new)
        appointment = people.book(customer, old)
        path = f"/v1/admin/appointments/{appointment['id']}"

        # When one staff member moves it to another free time while another checks it in
        patch, check_in = at_once(
            [
                staff_call(local_stack.base_url, ana, "PATCH", path, {"start": new}),
                staff_call(local_stack.base_url, ben, "POST", f"{path}/check-in"),
            ]
        )
        moved, checked_in = patch.status_code == 200, check_in.status_code == 200
        outcome = {
            (True, True): "reschedule then check-in",
            (False, True): "check-in, reschedule refused",
            (True, False): "reschedule, check-in refused",
            (False, False): "neither",
        }[moved, checked_in]
        outcomes[outcome] += 1
        check.note(f"reschedule {answer(patch)}, check-in {answer(check_in)} ({outcome})")
        check.expect(moved or checked_in, "one of them applies")
        for r in (patch, check_in):
            if r.status_code != 200:
                check.expect(
                    r.status_code == 409 and code_of(r) in LOSER_CODES, f"a refusal is a 409 {LOSER_CODES}"
                )

        # Then the appointment, its slots and its history are those of that order, whole
        stored = read(http, ana, appointment["id"])
        entries = history(stored)
        sent = customer.messages(http, check)
        left_old, left_new = remaining(http, old), remaining(http, new)
        where = {old: "old", new: "new"}
        check.note(
            f"status {stored['status']}, start {where.get(stored['start'], stored['start'])}, "
            f"remaining old {left_old}/{free_old} new {left_new}/{free_new}, e-mails {dict(sent)}, "
            f"history {dict(entries)}"
        )
        check.expect(stored["status"] == ("checked_in" if checked_in else "confirmed"), "status")
        check.expect(stored["start"] == (new if moved else old), "start")
        check.expect(left_old == free_old, "the old time's place is free (moved away or checked in)")
        holds_new = moved and not checked_in
        check.expect(
            left_new == free_new - (1 if holds_new else 0),
            "the new time holds a place only while booked there",
        )
        check.expect(entries["reschedule"] == int(moved), "a reschedule entry only when it applied")
        check.expect(entries["check-in"] == int(checked_in), "a check-in entry only when it applied")
        check.expect(sent["moved"] == int(moved), "a moved e-mail only when it applied")
        if moved and checked_in:
            order = [
                e["action"] for e in stored.get("history") or [] if e["action"] in ("reschedule", "check-in")
            ]
            check.expect(order == ["reschedule", "check-in"], "the reschedule came before the check-in")
        report.write(check.line())

    finish(report, "reschedule-vs-check-in", rounds, f"{RESCHEDULE_CHECK_IN_ROUNDS} rounds, {dict(outcomes)}")


def test_eight_bookings_at_once_with_one_idempotency_key_make_one_appointment(
    http: httpx.Client,
    people: People,
    slots: Slots,
    desk: tuple[Staff, Staff],
    report: Report,
) -> None:
    rounds: list[Round] = []
    answers: Counter[str] = Counter()
    for n in range(1, SAME_KEY_ROUNDS + 1):
        check = Round(f"same-key x{SAME_KEY_REQUESTS} {n:02d}")
        rounds.append(check)
        customer = people.customer()
        start = slots.take()
        free_before = remaining(http, start)
        body = customer.booking(start)
        headers = {"Idempotency-Key": str(uuid.uuid4()), **people.authorization(customer)}

        started = time.monotonic()
        responses = at_once([booking_call(customer, body, headers)] * SAME_KEY_REQUESTS)
        elapsed = time.monotonic() - started

        seen = Counter(answer(r) for r in responses)
        answers.update(seen)
        created = [r.json() for r in responses if r.status_code == 201]
        ids = {c["appointment"]["id"] for c in created}
        check.note(f"answers {dict(seen)} in {elapsed:.1f} s, appointment ids {sorted(ids)}")
        check.expect(
            all(answer(r) in ("201", "409 request_in_progress") for r in responses),
            "every answer a 201 or a 409 request_in_progress",
        )
        check.expect(len(ids) == 1 and all(c == created[0] for c in created), "every 201 the same answer")
        day = datetime.fromisoformat(start).date()
        on_file = appointments_of(http, desk[0], day, customer.email)
        check.note(
            f"the staff list shows {len(on_file)} for the customer, "
            f"slot remaining {remaining(http, start)}/{free_before}"
        )
        check.expect(
            len(on_file) == 1 and {a["id"] for a in on_file} == ids,
            "one appointment on file, the answered one",
        )
        check.expect(remaining(http, start) == free_before - 1, "one place held")
        with customer.client() as own:
            replay = own.post("/v1/appointments", json=body, headers=headers)
        check.expect(
            replay.status_code == 201 and bool(created) and replay.json() == created[0],
            f"a replay afterwards gets the first answer (got {answer(replay)})",
        )
        report.write(check.line())

    finish(
        report, f"same-key x{SAME_KEY_REQUESTS}", rounds, f"{SAME_KEY_ROUNDS} rounds, answers {dict(answers)}"
    )
