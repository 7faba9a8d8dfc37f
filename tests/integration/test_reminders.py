"""Reminders on moto, in process: the staff page's confirm / reschedule create and move ONE
one-time schedule (at the reminder time, ActionAfterCompletion DELETE, targeting the reminder
function); the reminder function sends by the preferred channel, once, and nothing for a stale,
repeated or no-longer-due invocation. Also the preferred channel of the e-confirmation on confirm
and of send_confirmation (the e-confirmation by hand)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from bookbay.domain.booking import CustomerProfile, PreferredChannel
from bookbay.domain.catalog import Catalog
from bookbay.domain.ids import hash_token
from bookbay.exceptions import InvalidTransition
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem, LinkTokenItem
from bookbay.models.customers import CustomerItem
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customer_messages import CustomerMessageRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.services import econfirmation, reminders
from bookbay.templates import long_when, short_when
from tests.integration.conftest import (
    PUBLIC_BASE_URL,
    REGION,
    Stack,
    apply_effects,
    at_expression,
    outbox,
    schedules,
    table_items,
)
from tests.integration.test_staff_links import assert_page, event, start_form, stored
from tests.support import FakeLambdaContext, load_event
from tests.support.appointments import CONTACT, Seeded, local, seed_appointment

pytestmark = pytest.mark.integration
CHICAGO = ZoneInfo("America/Chicago")
CUSTOMER_ID = "cust-0001"  # seed_appointment's customer


# ------------------------------------------------------------------------------ helpers
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


def closed_days(catalog: Catalog, year: int) -> set[date]:
    """An independent reading of the demo shop's closed days: US holidays and its extra dates."""
    settings = catalog.shop.settings.holidays
    public = holidays.country_holidays(settings.country, years=[year - 1, year, year + 1])
    return set(public) | set(settings.extra_closed_dates)


def expected_reminder(catalog: Catalog, drop_off: date, business_days: int = 1) -> datetime:
    """09:00 in Austin, ``business_days`` Mon-Fri days that are not closed before ``drop_off``."""
    closed, day, found = closed_days(catalog, drop_off.year), drop_off, 0
    while found < business_days:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            found += 1
    return datetime.combine(day, time(9), tzinfo=CHICAGO).astimezone(UTC)


def a_monday(catalog: Catalog, weeks_ahead: int = 1) -> date:
    """A Monday at least a week ahead on which the store is open."""
    day = datetime.now(UTC).date() + timedelta(days=7 * weeks_ahead)
    closed = closed_days(catalog, day.year)
    while day.weekday() != 0 or day in closed:
        day += timedelta(days=1)
    return day


def set_preference(channel: PreferredChannel, *, phone: str = CONTACT.phone) -> None:
    profile = CustomerProfile(
        id=CUSTOMER_ID,
        first_name="Pat",
        last_name="Customer",
        phone=phone,
        email=CONTACT.email,
        preferred_channel=channel,
        source="web",
        created_at=datetime(2025, 1, 6, tzinfo=UTC),
    )
    CustomerItem(keys.customer_pk(CUSTOMER_ID), keys.PROFILE_SK, body=profile.model_dump(mode="json")).save(
        add_version_condition=False
    )


def receipts(stack: Stack) -> list[dict[str, Any]]:
    return [i for i in table_items(stack) if i["entity"]["S"] == "ReminderSent"]


def manage_token(text: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC_BASE_URL)}/c/([A-Za-z0-9_-]+)", text)
    assert found is not None, text
    return found.group(1)


def assert_customer_link(text: str, appointment_id: str) -> None:
    link = LinkTokenItem.get(keys.token_pk(hash_token(manage_token(text))), keys.TOKEN_SK)
    assert (link.kind, link.appointment_id) == ("customer", appointment_id)


def remind(app: Any, appointment_id: str, sequence: int) -> str:
    reminder = load_event("reminder")
    reminder.update({"reminder": appointment_id, "sequence": sequence})
    outcome: str = app.lambda_handler(reminder, FakeLambdaContext())["outcome"]
    return outcome


def confirm(stack: Stack, staff_app: Any, call: Any, s: Seeded) -> str:
    """Staff confirm from the e-mailed link; the outbox worker then applies the change's effects."""
    html = assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    apply_effects(stack)
    return html


@pytest.fixture
def scheduling(seeded: Stack) -> reminders.ReminderScheduling:
    """Where the outbox worker puts reminder schedules."""
    worker = seeded.outbox_worker()
    scheduling: reminders.ReminderScheduling = worker.deps.effects.reminders
    return scheduling


# ------------------------------------------------------------------------------ scheduling
def test_confirm_creates_one_schedule_at_the_reminder_time(
    seeded: Stack, staff_app: Any, reminders_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a requested Monday appointment
    monday = a_monday(catalog)
    s = seed_appointment(catalog, local(monday, 10))
    assert schedules(seeded, "reminder-") == {}
    # When staff confirm it
    confirm(seeded, staff_app, call, s)
    # Then one schedule fires at 09:00 Austin time on the business day before, and deletes itself
    (schedule,) = schedules(seeded, "reminder-").values()
    assert schedule["Name"] == f"reminder-{s.appointment.id}"
    assert schedule["ScheduleExpression"] == at_expression(expected_reminder(catalog, monday))
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # invoking the reminder function, as the role Scheduler assumes, for this version of it
    env = seeded.env("OutboxSenderFunction")
    target = schedule["Target"]
    assert target["Arn"] == env["REMINDER_FUNCTION_ARN"] == seeded.functions["RemindersFunction"].arn
    assert target["RoleArn"] == env["SCHEDULER_ROLE_ARN"]
    assert json.loads(target["Input"]) == {"reminder": s.appointment.id, "sequence": 1}
    assert stored(s.appointment.id).body["sequence"] == 1
    # and that input makes the reminder function send it
    assert reminders_app.lambda_handler(json.loads(target["Input"]), FakeLambdaContext()) == {
        "outcome": "sent"
    }


def test_a_friday_after_a_holiday_is_reminded_two_days_before(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given the first weekday after a closed weekday (Thanksgiving, Christmas, ...) in the horizon
    today = datetime.now(UTC).date()
    closed = closed_days(catalog, today.year)
    day = next(
        d
        for d in (today + timedelta(days=n) for n in range(4, 400))
        if d.weekday() < 5
        and d not in closed
        and (d - timedelta(days=1)) in closed
        and (d - timedelta(days=1)).weekday() < 5
    )
    s = seed_appointment(catalog, local(day, 10))
    confirm(seeded, staff_app, call, s)
    (schedule,) = schedules(seeded, "reminder-").values()
    expected = expected_reminder(catalog, day)
    assert expected.astimezone(CHICAGO).date() < day - timedelta(days=1)  # the closed day is skipped
    assert schedule["ScheduleExpression"] == at_expression(expected)


def test_reschedule_replaces_the_schedule(
    seeded: Stack, staff_app: Any, reminders_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a confirmed Monday appointment and its reminder
    monday = a_monday(catalog)
    s = seed_appointment(catalog, local(monday, 10))
    confirm(seeded, staff_app, call, s)
    # When staff move it to the Wednesday after
    wednesday = monday + timedelta(days=2)
    new_start = local(wednesday, 11)
    assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(new_start))), 200)
    apply_effects(seeded)
    # Then it still has one schedule, at the new reminder time, for the new version
    (schedule,) = schedules(seeded, "reminder-").values()
    assert schedule["ScheduleExpression"] == at_expression(expected_reminder(catalog, wednesday))
    assert json.loads(schedule["Target"]["Input"]) == {"reminder": s.appointment.id, "sequence": 2}
    # And a stale invocation of the first schedule (already on its way) sends nothing
    before = len(outbox(seeded))
    assert remind(reminders_app, s.appointment.id, 1) == "stale"
    assert len(outbox(seeded)) == before


def test_reschedule_of_a_requested_appointment_confirms_it_and_schedules_the_reminder(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    monday = a_monday(catalog, weeks_ahead=2)
    s = seed_appointment(catalog, local(monday, 10))
    tuesday = monday + timedelta(days=1)
    assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(local(tuesday, 9)))), 200)
    apply_effects(seeded)
    (schedule,) = schedules(seeded, "reminder-").values()
    assert schedule["ScheduleExpression"] == at_expression(expected_reminder(catalog, tuesday))


def test_inside_the_window_the_schedule_is_deleted_not_replaced(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, scheduling: reminders.ReminderScheduling
) -> None:
    # Given a confirmed appointment with its reminder
    monday = a_monday(catalog)
    s = seed_appointment(catalog, local(monday, 10))
    confirm(seeded, staff_app, call, s)
    assert len(schedules(seeded, "reminder-")) == 1
    appointment = AppointmentRepository(seeded.table_name, REGION).get(s.appointment.id)
    assert appointment is not None
    # When its schedule is brought up to date after its reminder time (as a change made then does)
    late = expected_reminder(catalog, monday) + timedelta(minutes=1)
    # Then no reminder is left: none is sent at once (the change's own message just went out)
    assert reminders.schedule_reminder(scheduling, appointment, catalog, late) is None
    assert schedules(seeded, "reminder-") == {}


def test_cancel_and_check_in_delete_the_schedule_and_a_left_over_one_sends_nothing(
    seeded: Stack,
    staff_app: Any,
    reminders_app: Any,
    call: Any,
    catalog: Catalog,
    scheduling: reminders.ReminderScheduling,
) -> None:
    for status in ("cancelled", "checked_in"):
        s = seed_appointment(catalog, local(a_monday(catalog), 10))
        confirm(seeded, staff_app, call, s)
        assert f"reminder-{s.appointment.id}" in schedules(seeded, "reminder-")
        # When the appointment is cancelled / checked in (its status written as those changes do)
        item = stored(s.appointment.id)
        item.update(
            actions=[
                AppointmentItem.status.set(status),
                AppointmentItem.body.set({**item.body, "status": status, "sequence": 2}),
            ]
        )
        appointment = AppointmentRepository(seeded.table_name, REGION).get(s.appointment.id)
        assert appointment is not None
        # Then the stale schedule, had it fired before the change deleted it, sends nothing
        before = len(outbox(seeded))
        assert remind(reminders_app, s.appointment.id, 1) == "not_due"
        assert len(outbox(seeded)) == before
        # And the change's reminder.sync effect deletes it (the status has no reminder)
        assert reminders.schedule_reminder(scheduling, appointment, catalog, datetime.now(UTC)) is None
        assert f"reminder-{s.appointment.id}" not in schedules(seeded, "reminder-")
    s = seed_appointment(catalog, local(a_monday(catalog), 11))
    confirm(seeded, staff_app, call, s)
    reminders.cancel_reminder(scheduling, s.appointment.id)
    reminders.cancel_reminder(scheduling, s.appointment.id)  # gone already: fine
    assert schedules(seeded, "reminder-") == {}


def test_a_scheduler_failure_delays_the_reminder_and_never_loses_or_repeats_it(
    seeded: Stack,
    staff_app: Any,
    reminders_app: Any,
    call: Any,
    catalog: Catalog,
    scheduling: reminders.ReminderScheduling,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Scheduler is down")

    # Given the Scheduler refusing every call
    with monkeypatch.context() as down:
        down.setattr(scheduling.scheduler, "schedule_once", refuse)
        s = seed_appointment(catalog, local(a_monday(catalog), 10))
        # When staff confirm: the confirmation stands and the customer is told
        html = confirm(seeded, staff_app, call, s)
        assert "Confirmed" in html and stored(s.appointment.id).status == "confirmed"
        assert len(outbox(seeded)) == 1 and schedules(seeded, "reminder-") == {}
        # and the reminder waits as an effect with its failed attempt recorded
        (effect,) = [i for i in table_items(seeded) if i["entity"]["S"] == "Effect"]
        assert (effect["status"]["S"], effect["attempts"]["N"]) == ("pending", "1")
        assert effect["last_error"]["S"] == "RuntimeError" and "GSI3PK" in effect
    # Then once the Scheduler is back, the next attempt creates the schedule, once
    (effect,) = apply_effects(seeded)
    assert (effect["status"]["S"], effect["attempts"]["N"]) == ("done", "2") and "GSI3PK" not in effect
    (schedule,) = schedules(seeded, "reminder-").values()
    assert json.loads(schedule["Target"]["Input"]) == {"reminder": s.appointment.id, "sequence": 1}
    # and a re-delivered effect does nothing twice
    worker = seeded.outbox_worker()
    effect_id = effect["effect_id"]["S"]
    assert worker.deps.apply_effect(effect_id, datetime.now(UTC), retry_target_arn="x") == "skipped"
    assert remind(reminders_app, s.appointment.id, 1) == "sent"
    assert remind(reminders_app, s.appointment.id, 1) == "already_sent"
    assert len(receipts(seeded)) == 1


# ------------------------------------------------------------------------------ sending
@pytest.mark.parametrize("channel", ["sms", "email", "phone"])
def test_the_reminder_follows_the_preferred_channel_once(
    seeded: Stack, reminders_app: Any, catalog: Catalog, channel: PreferredChannel
) -> None:
    # Given a confirmed appointment whose customer prefers ``channel``
    set_preference(channel)
    s = seed_appointment(catalog, local(a_monday(catalog), 10), status="confirmed")
    # When its reminder fires
    outcome = remind(reminders_app, s.appointment.id, 0)
    # Then it goes by that channel, with a fresh manage link, and a receipt
    messages = outbox(seeded)
    if channel == "phone":
        assert outcome == "no_message" and messages == [] and receipts(seeded) == []
        return
    assert outcome == "sent"
    (message,) = messages
    assert message["channel"]["S"] == channel
    text = message["text"]["S"]
    when = short_when if channel == "sms" else long_when
    assert when(s.appointment.start.astimezone(CHICAGO)) in text
    assert_customer_link(text, s.appointment.id)
    assert manage_token(text) != s.customer_token  # a new token: the first one is stored only hashed
    if channel == "sms":
        assert message["to_address"]["S"] == CONTACT.phone and "html" not in message
        assert text.startswith("Bookbay Demo Auto reminder:") and len(text) <= 200
    else:
        assert message["to_address"]["S"] == CONTACT.email
        assert message["subject"]["S"].startswith("Reminder: your appointment on ")
        assert 'href="' + PUBLIC_BASE_URL + "/c/" in message["html"]["S"]
    (receipt,) = receipts(seeded)
    assert receipt["SK"]["S"] == "REMINDER#0" and receipt["message_id"]["S"] == message["message_id"]["S"]
    # And a repeated invocation (Scheduler delivers at least once) sends nothing more
    assert remind(reminders_app, s.appointment.id, 0) == "already_sent"
    assert len(outbox(seeded)) == 1


def test_sms_to_a_country_the_shop_does_not_text_goes_by_email(
    seeded: Stack, reminders_app: Any, catalog: Catalog
) -> None:
    set_preference("sms")
    contact = CONTACT.model_copy(update={"phone": "+442079460018"})
    s = seed_appointment(catalog, local(a_monday(catalog), 10), status="confirmed", contact=contact)
    assert remind(reminders_app, s.appointment.id, 0) == "sent"
    (message,) = outbox(seeded)
    assert message["channel"]["S"] == "email"


def test_reminders_that_are_no_longer_due_send_nothing(
    seeded: Stack, reminders_app: Any, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monday = a_monday(catalog)
    requested = seed_appointment(catalog, local(monday, 10))
    past_day = datetime.now(UTC).date() - timedelta(days=3)
    closed = closed_days(catalog, past_day.year)
    while past_day.weekday() >= 5 or past_day in closed:  # a day the store was open
        past_day -= timedelta(days=1)
    past = seed_appointment(catalog, local(past_day, 10), status="confirmed")
    confirmed = seed_appointment(catalog, local(monday, 11), status="confirmed")
    before = table_items(seeded)
    assert remind(reminders_app, requested.appointment.id, 0) == "not_due"
    assert remind(reminders_app, past.appointment.id, 0) == "not_due"
    assert remind(reminders_app, confirmed.appointment.id, 5) == "stale"
    assert remind(reminders_app, "0" * 24, 0) == "gone"
    ctx = FakeLambdaContext()
    for bad in ({}, {"reminder": "x"}, {"reminder": "abc", "sequence": -1}, {"outbox_retry": "m"}):
        assert reminders_app.lambda_handler(bad, ctx) == {"outcome": "invalid_event"}
    assert table_items(seeded) == before


def test_an_appointment_changed_while_the_reminder_was_prepared_sends_nothing(
    seeded: Stack, reminders_app: Any, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the reminder read the appointment just before something else changed it
    s = seed_appointment(catalog, local(a_monday(catalog), 10), status="confirmed")
    repo = reminders_app.deps.appointments
    as_read = repo.get(s.appointment.id)
    item = stored(s.appointment.id)
    item.update(actions=[AppointmentItem.body.set({**item.body, "notes": "changed"})])
    monkeypatch.setattr(repo, "get", lambda appointment_id: as_read)
    before = table_items(seeded)
    # Then its conditional write fails and nothing is sent
    assert remind(reminders_app, s.appointment.id, 0) == "stale"
    assert table_items(seeded) == before


def test_reminders_turned_off_meanwhile_send_nothing(
    seeded: Stack, reminders_app: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(a_monday(catalog), 10), status="confirmed")
    repo = CatalogRepository(seeded.table_name, REGION)
    current, version = repo.catalog_and_version()
    off = current.shop.settings.model_copy(update={"reminder_business_days": 0})
    repo.save_settings(current.shop, off, expected_version=version)
    assert remind(reminders_app, s.appointment.id, 0) == "not_due"
    assert outbox(seeded) == []


# ------------------------------------------------------------------------------ the e-confirmation
@pytest.mark.parametrize(
    ("channel", "notice"),
    [
        ("email", "the customer has been e-mailed."),
        ("sms", "the customer has been sent a text message."),
        ("phone", "no message was sent: the customer prefers a phone call."),
    ],
)
def test_confirm_sends_the_e_confirmation_by_the_preferred_channel(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, channel: PreferredChannel, notice: str
) -> None:
    set_preference(channel)
    s = seed_appointment(catalog, local(a_monday(catalog), 10))
    html = confirm(seeded, staff_app, call, s)
    assert f"Confirmed \N{EM DASH} {notice}" in html
    messages = outbox(seeded)
    links = [i for i in table_items(seeded) if i["entity"]["S"] == "LinkToken"]
    if channel == "phone":
        assert messages == [] and len(links) == 2  # only the seeded staff and customer links
    else:
        (message,) = messages
        assert message["channel"]["S"] == channel and len(links) == 3
        assert_customer_link(message["text"]["S"], s.appointment.id)
        if channel == "sms":
            assert message["text"]["S"].startswith("Bookbay Demo Auto: your Oil change appointment is on ")
    assert len(schedules(seeded, "reminder-")) == 1  # the reminder does not depend on the channel


def message_deps(stack: Stack) -> econfirmation.MessageDeps:
    return econfirmation.MessageDeps(
        catalog=CatalogRepository(stack.table_name, REGION),
        appointments=AppointmentRepository(stack.table_name, REGION),
        customers=CustomersRepository(stack.table_name, REGION),
        messages=CustomerMessageRepository(stack.table_name, REGION),
        public_base_url=PUBLIC_BASE_URL,
    )


def test_send_confirmation_by_hand(seeded: Stack, catalog: Catalog) -> None:
    deps = message_deps(seeded)
    now = datetime.now(UTC)
    set_preference("sms")
    s = seed_appointment(catalog, local(a_monday(catalog), 10), status="confirmed")
    # By the preferred channel, each time staff press the button, each with its own link
    first = econfirmation.send_confirmation(deps, s.appointment.id, now)
    second = econfirmation.send_confirmation(deps, s.appointment.id, now)
    assert (first.preferred, first.channel, second.channel) == ("sms", "sms", "sms")
    texts = [m["text"]["S"] for m in outbox(seeded)]
    assert len(texts) == 2 and manage_token(texts[0]) != manage_token(texts[1])
    for text in texts:
        assert_customer_link(text, s.appointment.id)
    # or by the channel staff pick
    by_mail = econfirmation.send_confirmation(deps, s.appointment.id, now, channel="email")
    assert by_mail.channel == "email" and len(outbox(seeded)) == 3
    # a customer who prefers a call gets nothing
    set_preference("phone")
    assert econfirmation.send_confirmation(deps, s.appointment.id, now).channel is None
    assert len(outbox(seeded)) == 3
    # only a confirmed appointment that is still ahead
    requested = seed_appointment(catalog, local(a_monday(catalog), 11))
    with pytest.raises(InvalidTransition):
        econfirmation.send_confirmation(deps, requested.appointment.id, now)
    with pytest.raises(InvalidTransition):
        econfirmation.send_confirmation(deps, s.appointment.id, s.appointment.start + timedelta(minutes=1))
