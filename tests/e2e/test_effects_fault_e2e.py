"""Effects under a Scheduler outage, over HTTP on the local stack (issue 13, "must show").

EventBridge Scheduler is made to fail by deleting the stack's schedule group in moto (which
deletes its schedules too; every schedule it held is put back afterwards). While it is down:

- staff confirm a requested appointment (admin API): the confirmation stands (200, confirmed, the
  customer's e-confirmation goes out), but its ``reminder.sync`` effect cannot create the reminder
  schedule: the Effect item stays ``pending`` (in the GSI3 "due" collection) with ``attempts`` >= 1,
  a ``last_error`` and a retry time, and no retry wake-up schedule could be made either;
- staff complete a checked-in appointment: it is completed, but its ``review.start`` effect stays
  pending the same way, and no review request exists yet.

The group is restored; ``POST /_local/scheduler/run`` with ``until`` after the retry time runs the
sweep (the OutboxSweep rule, its event time ``until``), which applies the effect: it is ``done``,
the reminder schedule exists at 09:00 shop time on the open weekday before the drop-off (the review
request exists, its step 1 schedule at 09:00 on the day after completion). Running to those times
fires each schedule once; the customer gets one reminder (one e-mail per review step), and later
runs send nothing more. Every message to the customer went out once (the table's Outbox items
and what the stack sent agree, one per kind).

Each customer is new (a phone on no customer yet) and books from a loopback address of its own,
verifying its e-mail first where the shop requires a code; the shop is in request mode with
review requests on for the module (switched where it is not, and put back).
Times passed as ``until`` only need to be coherent per run: the local scheduler keeps no clock of
its own (a run fires the rules when ``until`` is at least a rate past their last real firing, and
the at-schedules due by ``until``), so each test picks its own, from the real clock.
Figures go to tests/e2e/artifacts/effects-fault.txt.
"""

from __future__ import annotations

import itertools
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import httpx
import pytest

from tests.e2e.booking import SERVICE, closed, drain, first_day, is_code, messages_to, phone_on_no_customer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "e2e" / "artifacts" / "effects-fault.txt"
GROUP = "bookbay-local-schedules"  # the local stack's ScheduleGroup (${AWS::StackName}-schedules)
AUSTIN = ZoneInfo("America/Chicago")  # the Austin store's (and the demo shop's) time zone
AREA_CODES = ("806", "817", "430", "534")  # numbers no other e2e test uses
CODE_TEXT = re.compile(r"^(\d{6}) is your ")
DAYS_AHEAD = 44  # past the other tests' days, inside the 60-day horizon

# Customer e-mails by kind, told apart by their subjects (services.notifications); review e-mails
# by the review site's address in their text.
SUBJECTS = {
    "requested": "We received your appointment request",
    "confirmed": "Your appointment is confirmed",
    "reminder": "Reminder:",
}


# ------------------------------------------------------------------------------ clients and people
_NETWORK = random.randint(20, 250)
_SUBNET = random.randint(0, 250)
_HOSTS = itertools.count()


def loopback() -> str:
    """A loopback address of its own for each simulated person."""
    return f"127.{_NETWORK}.{_SUBNET}.{next(_HOSTS) % 250 + 2}"


@dataclass(frozen=True)
class Customer:
    base_url: str
    address: str
    last_name: str
    phone: str
    email: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=60, transport=httpx.HTTPTransport(local_address=self.address)
        )


@dataclass
class Shop:
    """The stack over HTTP: the staff token, the shop's settings, and fresh customers."""

    local_stack: Any
    http: httpx.Client
    staff: dict[str, str]
    settings: dict[str, Any]
    taken: set[str] = field(default_factory=set)

    def customer(self, tag: str) -> Customer:
        return Customer(
            base_url=self.local_stack.base_url,
            address=loopback(),
            last_name=f"{tag}{uuid.uuid4().hex[:8]}",
            phone=phone_on_no_customer(self.http, self.staff, AREA_CODES, self.taken),
            email=f"effects-fault-{tag.lower()}-{uuid.uuid4().hex[:10]}@example.com",
        )

    def book(self, customer: Customer, day: date) -> dict[str, Any]:
        """The customer books a free in-store oil change in Austin on ``day`` (the middle of the
        day's free starts), verifying its e-mail first where the shop requires it."""
        with customer.client() as own:
            slots = own.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
            assert slots.status_code == 200, slots.text
            free = [s["start"] for s in slots.json()["slots"] if s["remaining"] >= 1]
            assert free, f"no free slot on {day}"
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            if self.settings["require_verification"]:
                headers["Authorization"] = f"Bearer {self.verification_token(own, customer)}"
            body = {
                **SERVICE,
                "start": free[len(free) // 2],
                "customer": {
                    "first_name": "Effie",
                    "last_name": customer.last_name,
                    "phone": customer.phone,
                    "email": customer.email,
                },
                "vehicle": {"year": 2019, "make": "Toyota", "model": "RAV4"},
                "source": "e2e-effects-fault",
                "preferred_channel": "email",
            }
            booked = own.post("/v1/appointments", json=body, headers=headers)
        assert booked.status_code == 201, booked.text
        appointment: dict[str, Any] = booked.json()["appointment"]
        assert appointment["status"] == "requested", appointment
        return appointment

    def verification_token(self, own: httpx.Client, customer: Customer) -> str:
        sent = own.post("/v1/verification/codes", json={"channel": "email", "to": customer.email})
        assert sent.status_code == 202, sent.text
        codes = [
            found.group(1)
            for m in messages_to(self.http, customer.email)
            if (found := CODE_TEXT.match(m["text"] or ""))
        ]
        assert codes, f"no code reached {customer.email}"
        checked = own.post("/v1/verification/checks", json={"to": customer.email, "code": codes[-1]})
        assert checked.status_code == 200, checked.text
        token: str = checked.json()["verification_token"]
        return token

    def act(self, appointment_id: str, action: str) -> dict[str, Any]:
        """A staff action (admin API) that must succeed; the appointment it answers with."""
        response = self.http.post(f"/v1/admin/appointments/{appointment_id}/{action}", headers=self.staff)
        assert response.status_code == 200, (action, response.text)
        appointment: dict[str, Any] = response.json()["appointment"]
        return appointment

    def appointment(self, appointment_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/admin/appointments/{appointment_id}", headers=self.staff)
        assert response.status_code == 200, response.text
        appointment: dict[str, Any] = response.json()["appointment"]
        return appointment

    def review_request(self, request_id: str, status: str = "active") -> dict[str, Any] | None:
        """The staff queue's entry for ``request_id`` among those in ``status`` (every page), or
        None."""
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {
                "status": status,
                "limit": 100,
                **({"cursor": cursor} if cursor else {}),
            }
            page = self.http.get("/v1/admin/review-requests", params=params, headers=self.staff)
            assert page.status_code == 200, page.text
            for request in page.json()["review_requests"]:
                if request["id"] == request_id:
                    found: dict[str, Any] = request
                    return found
            cursor = page.json()["next_cursor"]
            if not cursor:
                return None


# ------------------------------------------------------------------------------ the stack's side
def run_scheduler(http: httpx.Client, until: datetime) -> dict[str, Any]:
    """POST /_local/scheduler/run: its whole answer (``fired`` and ``rules_fired``)."""
    response = http.post("/_local/scheduler/run", json={"until": until.isoformat()})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def fired_named(answer: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [f for f in answer["fired"] if f["name"] == name]


def sweeps(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """What the outbox sweep (the OutboxSweep rule) did in a run: its answers."""
    return [r for r in answer["rules_fired"] if r["name"] == "OutboxSenderFunction-OutboxSweep"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (client format) as plain values (strings and numbers only)."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if "S" in value:
            out[key] = value["S"]
        elif "N" in value:
            out[key] = int(value["N"]) if value["N"].isdigit() else float(value["N"])
    return out


@dataclass(frozen=True)
class Moto:
    """The local stack's moto: the table (read directly) and EventBridge Scheduler."""

    dynamodb: Any
    scheduler: Any
    table: str

    def scan(
        self, entity: str, attribute: str, value: str, *, contains: bool = False
    ) -> list[dict[str, Any]]:
        """The items of ``entity`` whose ``attribute`` is (or contains) ``value``."""
        condition = "contains(#a, :v)" if contains else "#a = :v"
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": f"#e = :e AND {condition}",
            "ExpressionAttributeNames": {"#e": "entity", "#a": attribute},
            "ExpressionAttributeValues": {":e": {"S": entity}, ":v": {"S": value}},
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("scan").paginate(**request):
            found += [plain(item) for item in page["Items"]]
        return found

    def effects(self, subject: str, name: str) -> list[dict[str, Any]]:
        """The Effect items named ``name`` on ``subject`` (an appointment or review request id)."""
        return [
            e
            for e in self.scan("Effect", "body", subject, contains=True)
            if f'"name": "{name}"' in e["body"] or f'"name":"{name}"' in e["body"]
        ]

    def effect(self, effect_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=self.table,
            Key={"PK": {"S": f"EFFECT#{effect_id}"}, "SK": {"S": "EFFECT"}},
            ConsistentRead=True,
        )["Item"]
        return plain(item)

    def outbox_to(self, to: str) -> list[dict[str, Any]]:
        """The Outbox items (messages) addressed to ``to``."""
        return self.scan("Outbox", "to_address", to)

    def reminder_receipts(self, appointment_id: str) -> list[dict[str, Any]]:
        return self.scan("ReminderSent", "PK", f"APPOINTMENT#{appointment_id}")

    def group_exists(self) -> bool:
        try:
            self.scheduler.get_schedule_group(Name=GROUP)
        except self.scheduler.exceptions.ResourceNotFoundException:
            return False
        return True

    def schedule(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.scheduler.get_schedule(Name=name, GroupName=GROUP)
        except self.scheduler.exceptions.ResourceNotFoundException:
            return None
        return found

    def schedules(self, prefix: str = "") -> list[dict[str, Any]]:
        """The group's schedules whose names start with ``prefix``, in full."""
        request: dict[str, Any] = {"GroupName": GROUP, **({"NamePrefix": prefix} if prefix else {})}
        names = [
            s["Name"]
            for page in self.scheduler.get_paginator("list_schedules").paginate(**request)
            for s in page["Schedules"]
        ]
        return [s for name in names if (s := self.schedule(name)) is not None]


def fires_at(schedule: dict[str, Any]) -> datetime:
    """When a one-time ``at(...)`` schedule fires (UTC)."""
    found = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", schedule["ScheduleExpression"])
    assert found is not None, schedule["ScheduleExpression"]
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(found.group(1)).replace(tzinfo=zone).astimezone(UTC)


_RECREATED = (
    "Name",
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "ActionAfterCompletion",
    "State",
    "Description",
    "StartDate",
    "EndDate",
)


@dataclass
class Outage:
    deleted_at: datetime
    kept: int  # schedules of other tests the group held (put back afterwards)
    restored_at: datetime | None = None
    put_back: int = 0


@contextmanager
def scheduler_down(moto: Moto) -> Iterator[Outage]:
    """EventBridge Scheduler down while the block runs: the schedule group deleted (and with it
    its schedules). After the block (whatever happened in it) the group is created again with the
    same name, and every schedule it held that is not there again is put back as it was."""
    assert moto.group_exists(), f"the local stack has no schedule group {GROUP}"
    held = moto.schedules()
    moto.scheduler.delete_schedule_group(Name=GROUP)
    outage = Outage(datetime.now(UTC), len(held))
    try:
        assert not moto.group_exists()
        yield outage
    finally:
        if not moto.group_exists():
            moto.scheduler.create_schedule_group(Name=GROUP)
        outage.restored_at = datetime.now(UTC)
        for schedule in held:
            if moto.schedule(schedule["Name"]) is None:
                moto.scheduler.create_schedule(**{k: schedule[k] for k in _RECREATED if k in schedule})
                outage.put_back += 1


# ------------------------------------------------------------------------------ the report
class Report:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"Effects under a Scheduler outage on the local stack, {datetime.now(AUSTIN):%Y-%m-%d %H:%M %Z}\n"
        )

    def write(self, text: str) -> None:
        with self.path.open("a") as out:
            out.write(text + "\n")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def moto(local_stack: Any, dynamodb: Any) -> Moto:
    if not local_stack.moto_url:
        pytest.skip("the stack's moto endpoint is not known: set BOOKBAY_E2E_MOTO_URL")
    scheduler = boto3.client(
        "scheduler",
        endpoint_url=local_stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    (table,) = [
        name
        for name in dynamodb.list_tables()["TableNames"]
        if dynamodb.describe_table(TableName=name)["Table"].get("StreamSpecification")
    ]
    return Moto(dynamodb, scheduler, table)


@pytest.fixture(scope="module")
def report() -> Report:
    return Report(REPORT)


@pytest.fixture(scope="module")
def shop(
    local_stack: Any, http: httpx.Client, staff: dict[str, str], owner: dict[str, str], report: Report
) -> Iterator[Shop]:
    """The shop in request mode with review requests on for the module (switched where they are
    not, by an owner: review_requests is owner-only; and put back after)."""
    current = http.get("/v1/admin/settings", headers=staff)
    assert current.status_code == 200, current.text
    settings: dict[str, Any] = current.json()["settings"]
    report.write(
        f"shop: booking_mode {settings['booking_mode']}, require_verification "
        f"{settings['require_verification']}, review_requests {settings['review_requests']}"
    )
    changes: dict[str, Any] = {}
    if settings["booking_mode"] != "request":
        changes["booking_mode"] = "request"
    if not settings["review_requests"]["enabled"] or not settings["review_requests"]["review_url"]:
        changes["review_requests"] = {
            **settings["review_requests"],
            "enabled": True,
            "review_url": settings["review_requests"]["review_url"]
            or "https://reviews.example.com/e2e-effects",
        }
    if changes:
        changed = http.patch("/v1/admin/settings", json={"changes": changes}, headers=owner)
        assert changed.status_code == 200, changed.text
        report.write(f"shop: changed for these tests: {sorted(changes)}")
    try:
        yield Shop(local_stack, http, staff, {**settings, **changes})
    finally:
        if changes:
            back = {key: settings[key] for key in changes}
            restored = http.patch("/v1/admin/settings", json={"changes": back}, headers=owner)
            assert restored.status_code == 200, restored.text


# ------------------------------------------------------------------------------ expectations
def expected_reminder(drop_off: date) -> datetime:
    """09:00 in Austin on the last open weekday before ``drop_off`` (the demo: 1 business day)."""
    day = drop_off - timedelta(days=1)
    while closed(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=AUSTIN).astimezone(UTC)


def expected_step(completed_at: datetime, days: int) -> datetime:
    """09:00 in Austin ``days`` days after the completion's (Austin) date."""
    day = completed_at.astimezone(AUSTIN).date() + timedelta(days=days)
    return datetime.combine(day, time(9), tzinfo=AUSTIN).astimezone(UTC)


def retry_due(effect: dict[str, Any]) -> datetime:
    """When a pending effect is due again (its GSI3 sort key: ``<UTC due>#<id>``)."""
    return utc(str(effect["GSI3SK"]).split("#", 1)[0])


def assert_pending_after_failure(effect: dict[str, Any]) -> None:
    assert effect["status"] == "pending", effect
    assert effect["attempts"] >= 1, effect
    assert effect.get("last_error"), effect
    assert effect.get("GSI3PK") == "OUTBOX#DUE", effect


def sweep_time(effect: dict[str, Any]) -> datetime:
    """An ``until`` past the effect's retry time and at least a rate (1 minute) past the sweep
    rule's last firing by the real clock, so the run fires the sweep."""
    return max(retry_due(effect) + timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=2))


def kinds(messages: list[dict[str, Any]], review_url: str) -> Counter[str]:
    """The appointment's messages by kind (the one-time code the customer booked with is not one)."""
    found: Counter[str] = Counter()
    for message in messages:
        if is_code(message):
            continue
        subject = message["subject"] or ""
        kind = next(
            (k for k, words in SUBJECTS.items() if subject.startswith(words) or words in subject), None
        )
        if kind is None and review_url in (message["text"] or ""):
            kind = "review"
        found[kind or f"other: {subject}"] += 1
    return found


def assert_each_message_once(moto: Moto, http: httpx.Client, to: str) -> int:
    """What the stack sent to ``to`` and the table's Outbox items to it agree: each item sent
    once (status sent), one message per item, no text twice. How many items."""
    sent = messages_to(http, to)
    items = moto.outbox_to(to)
    assert all(item["status"] == "sent" for item in items), items
    assert len(sent) == len(items), (len(sent), len(items))
    texts = Counter(m["text"] for m in sent)
    assert all(n == 1 for n in texts.values()), texts
    return len(items)


# ------------------------------------------------------------------------------ the tests
def test_a_confirmation_during_a_scheduler_outage_gets_its_reminder_once_the_sweep_retries(
    http: httpx.Client, shop: Shop, moto: Moto, report: Report
) -> None:
    customer = shop.customer("Remind")
    today = datetime.now(AUSTIN).date()
    day = first_day(today + timedelta(days=DAYS_AHEAD), lambda d: not closed(d) and d.weekday() in (1, 2, 3))
    appointment = shop.book(customer, day)
    name = f"reminder-{appointment['id']}"
    drain(http)

    # When staff confirm it while EventBridge Scheduler is down
    with scheduler_down(moto) as outage:
        confirmed = shop.act(appointment["id"], "confirm")
        # Then the confirmation stands and the customer is told
        assert confirmed["status"] == "confirmed", confirmed
        sent = kinds(messages_to(http, customer.email), shop.settings["review_requests"]["review_url"])
        assert sent["confirmed"] == 1, sent
        assert shop.appointment(appointment["id"])["status"] == "confirmed"
        # but its reminder is not scheduled: the effect waits, its failure recorded
        (effect,) = moto.effects(appointment["id"], "reminder.sync")
        assert_pending_after_failure(effect)
        failed = dict(effect)
    assert outage.restored_at is not None
    assert moto.schedule(name) is None
    # the retry wake-up could not be scheduled either: the sweep is the only way back
    assert moto.schedules(f"outbox-retry-{failed['effect_id']}") == []

    # When the Scheduler is back and the sweep runs after the retry time
    until = sweep_time(failed)
    answer = run_scheduler(http, until)
    swept = sweeps(answer)
    assert swept, answer
    # Then the effect is applied and the reminder scheduled at 09:00 the business day before
    applied = moto.effect(failed["effect_id"])
    assert applied["status"] == "done" and "GSI3PK" not in applied, applied
    assert applied["attempts"] == failed["attempts"] + 1, (failed, applied)
    schedule = moto.schedule(name)
    assert schedule is not None, f"no schedule {name} after the sweep"
    at = expected_reminder(day)
    assert fires_at(schedule) == at, (schedule["ScheduleExpression"], at)
    assert fired_named(answer, name) == []

    # Nothing before its time; at its time it fires once and the reminder arrives, once
    before = run_scheduler(http, at - timedelta(seconds=1))
    assert fired_named(before, name) == []
    assert kinds(messages_to(http, customer.email), "")["reminder"] == 0
    (fired,) = fired_named(run_scheduler(http, at), name)
    assert fired["target_function"] == "RemindersFunction" and fired["result"] == {"outcome": "sent"}, fired
    assert moto.schedule(name) is None  # deleted after completion
    again = run_scheduler(http, at + timedelta(days=1))
    assert fired_named(again, name) == []
    sent = kinds(messages_to(http, customer.email), shop.settings["review_requests"]["review_url"])
    assert sent == Counter({"requested": 1, "confirmed": 1, "reminder": 1}), sent
    receipts = moto.reminder_receipts(appointment["id"])
    assert len(receipts) == 1, receipts
    items = assert_each_message_once(moto, http, customer.email)

    report.write(
        f"reminder.sync: appointment {appointment['id']} on {day} ({appointment['start']}); group deleted "
        f"{stamp(outage.deleted_at)}, restored {stamp(outage.restored_at)} (other schedules held "
        f"{outage.kept}, put back {outage.put_back}); effect {failed['effect_id']} pending with attempts "
        f"{failed['attempts']}, last_error {failed['last_error']!r}, retry due {stamp(retry_due(failed))}; "
        f"sweep run until {stamp(until)}: {[s.get('result') for s in swept]}; effect done, attempts "
        f"{applied['attempts']}; reminder schedule at {stamp(fires_at(schedule))} (expected {stamp(at)}, "
        f"{at.astimezone(AUSTIN):%a %Y-%m-%d %H:%M %Z}); fired {fired['scheduled_time']} -> "
        f"{fired['result']}; reminders sent 1, receipts {len(receipts)}; e-mails to the customer "
        f"{dict(sent)} ({items} outbox items, each sent once)"
    )


def test_a_completion_during_a_scheduler_outage_starts_its_review_requests_once_the_sweep_retries(
    http: httpx.Client, shop: Shop, moto: Moto, report: Report
) -> None:
    review_url: str = shop.settings["review_requests"]["review_url"]
    steps: list[int] = list(shop.settings["review_requests"]["steps_days"])
    customer = shop.customer("Review")
    today = datetime.now(AUSTIN).date()
    day = first_day(today + timedelta(days=DAYS_AHEAD + 2), lambda d: not closed(d))
    appointment = shop.book(customer, day)
    request_id = appointment["id"]  # a review request's id is its appointment's
    shop.act(appointment["id"], "confirm")
    shop.act(appointment["id"], "check-in")
    drain(http)  # the reminder.sync effects of both applied (the reminder made, then deleted)
    assert moto.schedule(f"reminder-{appointment['id']}") is None

    # When staff complete it while EventBridge Scheduler is down
    with scheduler_down(moto) as outage:
        completed = shop.act(appointment["id"], "complete")
        completed_at = datetime.now(UTC)
        # Then it is completed, but its review requests have not started: the effect waits
        assert completed["status"] == "completed", completed
        drain(http)
        assert shop.appointment(appointment["id"])["status"] == "completed"
        (effect,) = moto.effects(appointment["id"], "review.start")
        assert_pending_after_failure(effect)
        failed = dict(effect)
        for status in ("active", "done", "opted_out", "stopped", "finished"):
            assert shop.review_request(request_id, status) is None, status
    assert outage.restored_at is not None
    assert moto.schedules(f"review-{request_id}-") == []
    assert moto.schedules(f"outbox-retry-{failed['effect_id']}") == []

    # When the Scheduler is back and the sweep runs after the retry time
    until = sweep_time(failed)
    answer = run_scheduler(http, until)
    swept = sweeps(answer)
    assert swept, answer
    # Then the effect is applied: the request exists (active) with step 1 scheduled
    applied = moto.effect(failed["effect_id"])
    assert applied["status"] == "done" and "GSI3PK" not in applied, applied
    assert applied["attempts"] == failed["attempts"] + 1, (failed, applied)
    request = shop.review_request(request_id)
    assert request is not None, "no review request after the sweep"
    assert (request["status"], request["steps_sent"], request["steps_days"]) == ("active", 0, steps), request
    # The sequence counts from the completion staff made, not from when the delayed effect ran
    assert utc(request["completed_at"]) == utc(completed["completed_at"]), (request, completed)
    step_1 = moto.schedule(f"review-{request_id}-1")
    assert step_1 is not None
    first_at = expected_step(completed_at, steps[0])
    assert fires_at(step_1) == first_at == utc(request["next_step_at"]), (step_1, first_at, request)

    # Each step fires once at its time, one e-mail each; running to a time again sends nothing
    fired_steps: list[str] = []
    for n, days in enumerate(steps, start=1):
        name = f"review-{request_id}-{n}"
        schedule = moto.schedule(name)
        assert schedule is not None, f"no schedule {name}"
        at = fires_at(schedule)
        assert at == expected_step(completed_at, days), (name, at)
        assert fired_named(run_scheduler(http, at - timedelta(seconds=1)), name) == []
        (fired,) = fired_named(run_scheduler(http, at), name)
        assert fired["target_function"] == "ReviewRequestsFunction" and fired["result"] == {"outcome": "sent"}
        assert fired_named(run_scheduler(http, at), name) == []
        assert kinds(messages_to(http, customer.email), review_url)["review"] == n
        fired_steps.append(f"{n}: {fired['scheduled_time']}")
    last = run_scheduler(http, expected_step(completed_at, steps[-1]) + timedelta(days=30))
    assert [f for f in last["fired"] if f["name"].startswith(f"review-{request_id}-")] == []
    sent = kinds(messages_to(http, customer.email), review_url)
    assert sent == Counter({"requested": 1, "confirmed": 1, "review": len(steps)}), sent
    finished = shop.review_request(request_id, "finished")
    assert finished is not None and (finished["status"], finished["steps_sent"]) == ("finished", len(steps))
    items = assert_each_message_once(moto, http, customer.email)

    report.write(
        f"review.start: appointment {appointment['id']} completed {stamp(completed_at)}; group deleted "
        f"{stamp(outage.deleted_at)}, restored {stamp(outage.restored_at)} (other schedules held "
        f"{outage.kept}, put back {outage.put_back}); effect {failed['effect_id']} pending with attempts "
        f"{failed['attempts']}, last_error {failed['last_error']!r}, retry due {stamp(retry_due(failed))}; "
        f"sweep run until {stamp(until)}: {[s.get('result') for s in swept]}; effect done, attempts "
        f"{applied['attempts']}; review request {request['status']}, completed_at {request['completed_at']} "
        "(the appointment's completion, not the sweep's time), "
        f"step 1 at {stamp(first_at)} ({first_at.astimezone(AUSTIN):%a %Y-%m-%d %H:%M %Z}); steps fired "
        f"once each [{'; '.join(fired_steps)}]; request {finished['status']}, steps_sent "
        f"{finished['steps_sent']}; e-mails to the customer {dict(sent)} ({items} outbox items, "
        "each sent once)"
    )
