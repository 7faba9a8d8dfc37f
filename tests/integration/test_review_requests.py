"""Review requests on moto, in process: a completed appointment starts a sequence
(``start_for_completed``, as the admin complete action calls it) whose steps are one-time
schedules targeting the review-request function; each fired step puts ONE e-mail with the review
site and a fresh /r/ link in the outbox and schedules the next; the /r/ page's "I left a review"
and "Stop these e-mails" end it (a later step sends nothing); nothing is sent while the shop has
review requests off; staff list the queue and stop a sequence (401 / 403 without the staff group).
The stack fixture holds every handler's AWS calls to its IAM policy in the template."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from bookbay.adapters.scheduler import ScheduleTarget
from bookbay.domain.audit import Actor
from bookbay.domain.availability import is_closed
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog
from bookbay.domain.ids import hash_token
from bookbay.domain.review_requests import ReviewRequest, step_time
from bookbay.models import keys
from bookbay.models.appointments import LinkTokenItem
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.review_requests import CustomerReviewState
from bookbay.services import review_requests
from bookbay.services.review_requests import ReviewDeps
from tests.integration.conftest import (
    PUBLIC_BASE_URL,
    REGION,
    Stack,
    apply_effects,
    at_expression,
    schedules,
    table_items,
)
from tests.integration.test_staff_links import assert_page
from tests.support import FakeLambdaContext, load_event, response_json, with_body, with_query
from tests.support.appointments import CONTACT, local, next_weekday, seed_appointment

pytestmark = pytest.mark.integration
CHICAGO = ZoneInfo("America/Chicago")
FORM = "application/x-www-form-urlencoded"
REVIEW_URL = "https://reviews.example.com/bookbay-demo-auto"  # the demo shop's review_url
STAFF = Actor(kind="staff", sub="staff-sub-1", email="advisor@demo-auto.example.com")
PAGE_EVENTS = {"review_page_get": "", "review_done": "/done", "review_stop": "/stop"}


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    """The demo shop (review requests on, steps 1, 4, 10 days); links on PUBLIC_BASE_URL."""
    return CatalogRepository(seeded.table_name, REGION).catalog()


@pytest.fixture
def sender(seeded: Stack, catalog: Catalog) -> Any:
    return seeded.load("review_requests", "ReviewRequestsFunction")


@pytest.fixture
def pages(seeded: Stack, catalog: Catalog) -> Any:
    return seeded.load("review_links", "ReviewLinksFunction")


@pytest.fixture
def admin(seeded: Stack, catalog: Catalog) -> Any:
    return seeded.load("admin_review_requests", "AdminReviewRequestsFunction")


@pytest.fixture
def deps(seeded: Stack, catalog: Catalog) -> ReviewDeps:
    """As the admin complete action builds them: the review-request function as the target."""
    env = seeded.env("ReviewRequestsFunction")
    return ReviewDeps.build(
        table_name=seeded.table_name,
        region=REGION,
        schedule_target=ScheduleTarget(env["SCHEDULE_GROUP"], env["SCHEDULER_ROLE_ARN"]),
        target_arn=sender_arn(seeded),
    )


# ------------------------------------------------------------------------------ helpers
def sender_arn(stack: Stack) -> str:
    return stack.functions["ReviewRequestsFunction"].arn


def completed(catalog: Catalog, *, days_ago: int = 3, customer_id: str | None = None) -> Appointment:
    """A completed appointment of a few days ago (seeded), optionally of another customer."""
    location = catalog.location("austin-downtown")
    assert location is not None
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    while day.weekday() >= 5 or is_closed(location, catalog.shop.settings, day):
        day -= timedelta(days=1)
    appointment = seed_appointment(catalog, local(day, 10), status="completed").appointment
    if customer_id is not None:
        appointment = appointment.model_copy(update={"customer_id": customer_id})
    return appointment


def start(
    deps: ReviewDeps, catalog: Catalog, appointment: Appointment, now: datetime
) -> ReviewRequest | None:
    return review_requests.start_for_completed(deps, appointment, catalog, STAFF, now)


def nine_am(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=CHICAGO)


def fire(stack: Stack, sender: Any) -> list[tuple[str, str]]:
    """Fire every review schedule as EventBridge Scheduler would (its Input, this function's ARN),
    then delete it (ActionAfterCompletion DELETE). Returns (name, outcome) pairs."""
    fired = []
    client = boto3.client("scheduler", region_name=REGION)
    for name, schedule in sorted(schedules(stack, "review-").items()):
        assert schedule["Target"]["Arn"] == sender_arn(stack)
        assert schedule["ActionAfterCompletion"] == "DELETE"
        outcome = invoke(stack, sender, json.loads(schedule["Target"]["Input"]))
        client.delete_schedule(Name=name, GroupName=stack.schedule_group)
        fired.append((name, outcome))
    return fired


def invoke(stack: Stack, sender: Any, payload: dict[str, Any]) -> str:
    context = FakeLambdaContext(invoked_function_arn=sender_arn(stack))
    outcome: str = sender.lambda_handler(payload, context)["outcome"]
    return outcome


def step_event(request_id: str, step: int) -> dict[str, Any]:
    event = load_event("review_step")
    event.update({"review_request": request_id, "step": step})
    return event


def items(stack: Stack, entity: str) -> list[dict[str, Any]]:
    return [i for i in table_items(stack) if i["entity"]["S"] == entity]


def review_mails(stack: Stack) -> list[dict[str, Any]]:
    return [i for i in items(stack, "Outbox") if i.get("reference", {}).get("S", "").startswith("review:")]


def stored_request(stack: Stack, request_id: str) -> dict[str, Any]:
    (item,) = [i for i in items(stack, "ReviewRequest") if i["PK"]["S"] == keys.review_request_pk(request_id)]
    return item


def body_of(item: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(item["body"]["S"])
    return body


def customer_state(stack: Stack, customer_id: str = "cust-0001") -> dict[str, Any] | None:
    found = [
        i
        for i in items(stack, "ReviewCustomer")
        if i["PK"]["S"] == keys.customer_pk(customer_id) and i["SK"]["S"] == keys.REVIEW_CUSTOMER_SK
    ]
    return found[0] if found else None


def review_token(text: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC_BASE_URL)}/r/([A-Za-z0-9_-]+)", text)
    assert found is not None, text
    return found.group(1)


def page_event(name: str, token: str, body: str | None = None, **headers: str) -> dict[str, Any]:
    e = load_event(name)
    e["path"] = f"/r/{token}{PAGE_EVENTS[name]}"
    e["pathParameters"] = {"token": token}
    if name != "review_page_get":
        e = with_body(e, body if body is not None else e["body"], FORM)
        e["headers"].update(headers)
        e["multiValueHeaders"] = {k: [v] for k, v in e["headers"].items()}
    return e


def set_review_requests(seeded: Stack, **changes: Any) -> None:
    repo = CatalogRepository(seeded.table_name, REGION)
    current, version = repo.catalog_and_version()
    review = current.shop.settings.review_requests.model_copy(update=changes)
    settings = current.shop.settings.model_copy(update={"review_requests": review})
    repo.save_settings(current.shop, settings, expected_version=version)


def admin_list(admin: Any, **query: str) -> dict[str, Any]:
    response: dict[str, Any] = admin.lambda_handler(
        with_query(load_event("admin_review_requests_list"), query or None), FakeLambdaContext()
    )
    return response


def admin_stop(admin: Any, request_id: str) -> dict[str, Any]:
    e = load_event("admin_review_requests_stop")
    e["path"] = f"/v1/admin/review-requests/{request_id}/stop"
    e["pathParameters"] = {"request_id": request_id}
    response: dict[str, Any] = admin.lambda_handler(e, FakeLambdaContext())
    return response


# ------------------------------------------------------------------------------ the sequence
def test_complete_starts_a_sequence_whose_steps_each_send_one_email_with_the_review_link(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any
) -> None:
    # Given an appointment staff just completed
    appointment = completed(catalog)
    now = datetime.now(UTC)
    # When the complete action starts the review requests
    request = start(deps, catalog, appointment, now)
    # Then the request is in the active queue, the customer has it as their active sequence,
    assert request is not None and request.id == appointment.id
    item = stored_request(seeded, appointment.id)
    assert item["status"]["S"] == "active" and item["GSI3PK"]["S"] == "REVIEWS#active"
    assert body_of(item)["steps_days"] == [1, 4, 10] and body_of(item)["email"] == CONTACT.email
    state = customer_state(seeded)
    assert state is not None and state["active_request_id"]["S"] == appointment.id
    # the start is audited with the staff member who completed it,
    (audit,) = [i for i in items(seeded, "Audit") if i["PK"]["S"] == keys.review_request_pk(appointment.id)]
    assert json.loads(audit["body"]["S"])["actor"]["sub"] == STAFF.sub
    # and step 1 is scheduled at 09:00 Austin time the day after the completion, nothing sent yet
    completion_day = now.astimezone(CHICAGO).date()
    (schedule,) = schedules(seeded, "review-").values()
    assert schedule["Name"] == f"review-{appointment.id}-1"
    assert schedule["ScheduleExpression"] == at_expression(nine_am(completion_day + timedelta(days=1)))
    assert json.loads(schedule["Target"]["Input"]) == {"review_request": appointment.id, "step": 1}
    assert review_mails(seeded) == []

    # When the steps fire one after the other
    expected_next = [4, 10]
    for step in (1, 2, 3):
        assert fire(seeded, sender) == [(f"review-{appointment.id}-{step}", "sent")]
        mails = review_mails(seeded)
        assert len(mails) == step
        if expected_next:
            (schedule,) = schedules(seeded, "review-").values()
            assert schedule["Name"] == f"review-{appointment.id}-{step + 1}"
            days = expected_next.pop(0)
            assert schedule["ScheduleExpression"] == at_expression(
                nine_am(completion_day + timedelta(days=days))
            )

    # Then three e-mails went to the customer, each with the review site and its own /r/ link
    mails = sorted(review_mails(seeded), key=lambda m: m["reference"]["S"])
    tokens = set()
    for step, mail in enumerate(mails, start=1):
        assert mail["channel"]["S"] == "email" and mail["to_address"]["S"] == CONTACT.email
        assert mail["reference"]["S"] == f"review:{appointment.id}:{step}"
        assert REVIEW_URL in mail["text"]["S"] and f'href="{REVIEW_URL}"' in mail["html"]["S"]
        assert "Hello Pat" in mail["text"]["S"] and "Bookbay Demo Auto" in mail["subject"]["S"]
        token = review_token(mail["text"]["S"])
        assert review_token(mail["html"]["S"]) == token
        link = LinkTokenItem.get(keys.token_pk(hash_token(token)), keys.TOKEN_SK)
        assert (link.kind, link.appointment_id) == ("review", appointment.id)
        tokens.add(token)
    assert len(tokens) == 3
    assert "last e-mail" in mails[2]["text"]["S"] and "last e-mail" not in mails[0]["text"]["S"]
    # and the sequence is finished: out of the active queue, the customer free, no schedule left
    item = stored_request(seeded, appointment.id)
    assert item["status"]["S"] == "finished" and item["GSI3PK"]["S"] == "REVIEWS#finished"
    assert body_of(item)["steps_sent"] == 3 and body_of(item)["next_step_at"] is None
    state = customer_state(seeded)
    assert state is not None and "active_request_id" not in state
    assert schedules(seeded, "review-") == {}
    assert len(items(seeded, "ReviewStepSent")) == 3


def test_a_start_delayed_past_the_completion_counts_the_steps_from_the_completion(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps
) -> None:
    """The review.start effect may run late (a Scheduler outage, a retry): the sequence still
    counts from when staff completed the visit; a step already past is caught up."""
    completed_at = datetime.now(UTC) - timedelta(days=2)
    appointment = completed(catalog).model_copy(update={"completed_at": completed_at})
    now = datetime.now(UTC).replace(microsecond=0)
    request = start(deps, catalog, appointment, now)
    assert request is not None
    stored_completion = body_of(stored_request(seeded, appointment.id))["completed_at"]
    assert datetime.fromisoformat(stored_completion) == completed_at
    # Step 1 (a day after the completion) has passed: it goes a minute from now, not in a day
    (schedule,) = schedules(seeded, "review-").values()
    assert schedule["ScheduleExpression"] == at_expression(now + timedelta(minutes=1))
    # Step 2 is 4 days after the completion (2 days from now), at 09:00 Austin time
    completion_day = completed_at.astimezone(CHICAGO).date()
    assert step_time(request, 2, "America/Chicago", "09:00", now) == nine_am(
        completion_day + timedelta(days=4)
    )


def test_a_repeated_or_stale_step_sends_nothing_more(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any
) -> None:
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    # The scheduler delivers at least once: step 1 twice sends one e-mail
    assert invoke(seeded, sender, step_event(request.id, 1)) == "sent"
    assert invoke(seeded, sender, step_event(request.id, 1)) == "already_sent"
    assert len(review_mails(seeded)) == 1
    # a step out of order, an unknown request and a bad event send nothing either
    assert invoke(seeded, sender, step_event(request.id, 3)) == "not_due"
    assert invoke(seeded, sender, step_event("0000000000000000nosuch00", 1)) == "gone"
    assert invoke(seeded, sender, {"reminder": request.id}) == "invalid_event"
    assert len(review_mails(seeded)) == 1
    # a retried step 1 re-creates step 2's schedule (an earlier try may have failed after sending)
    step_2 = f"review-{request.id}-2"
    boto3.client("scheduler", region_name=REGION).delete_schedule(
        Name=step_2, GroupName=seeded.schedule_group
    )
    assert step_2 not in schedules(seeded, "review-")
    assert invoke(seeded, sender, step_event(request.id, 1)) == "already_sent"
    assert step_2 in schedules(seeded, "review-")
    assert len(review_mails(seeded)) == 1


def test_the_stop_link_is_honoured_and_the_customer_is_never_asked_again(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, pages: Any
) -> None:
    appointment = completed(catalog)
    request = start(deps, catalog, appointment, datetime.now(UTC))
    assert request is not None
    assert fire(seeded, sender) == [(f"review-{request.id}-1", "sent")]
    (mail,) = review_mails(seeded)
    token = review_token(mail["text"]["S"])
    # GET shows the page with the review site and both buttons, and changes nothing
    before = table_items(seeded)
    html = assert_page(pages.lambda_handler(page_event("review_page_get", token), FakeLambdaContext()), 200)
    assert "How did we do?" in html and f'href="{REVIEW_URL}"' in html and "Bookbay Demo Auto" in html
    assert f'action="{token}/done"' in html and f'action="{token}/stop"' in html
    assert "I left a review" in html and "Stop these e-mails" in html
    assert table_items(seeded) == before
    # When the customer asks to stop
    html = assert_page(pages.lambda_handler(page_event("review_stop", token), FakeLambdaContext()), 200)
    assert "You will not get review e-mails from Bookbay Demo Auto again" in html
    # Then the request is opted out, the customer too, and step 2's schedule is gone
    item = stored_request(seeded, request.id)
    assert item["status"]["S"] == "opted_out" and item["GSI3PK"]["S"] == "REVIEWS#opted_out"
    assert body_of(item)["ended_by"] == "customer"
    state = customer_state(seeded)
    assert state is not None and state["opted_out"]["BOOL"] is True and "active_request_id" not in state
    apply_effects(seeded)  # the outbox worker deletes the schedule (the stop's review.unschedule)
    assert schedules(seeded, "review-") == {}
    # a step 2 that fires anyway (a schedule left behind) sends nothing
    assert invoke(seeded, sender, step_event(request.id, 2)) == "not_active"
    assert len(review_mails(seeded)) == 1
    # pressing stop again changes nothing and says so
    html = assert_page(pages.lambda_handler(page_event("review_stop", token), FakeLambdaContext()), 200)
    assert "You had already asked us to stop" in html
    # and a later completed appointment of the customer starts nothing
    assert start(deps, catalog, completed(catalog, days_ago=1), datetime.now(UTC)) is None
    assert schedules(seeded, "review-") == {} and len(items(seeded, "ReviewRequest")) == 1


def test_i_left_a_review_ends_the_sequence_and_frees_the_customer(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, pages: Any
) -> None:
    appointment = completed(catalog, days_ago=8)
    request = start(deps, catalog, appointment, datetime.now(UTC))
    assert request is not None
    fire(seeded, sender)
    token = review_token(review_mails(seeded)[0]["text"]["S"])
    html = assert_page(pages.lambda_handler(page_event("review_done", token), FakeLambdaContext()), 200)
    assert "Thank you for your review" in html and "I left a review" not in html
    assert stored_request(seeded, request.id)["status"]["S"] == "done"
    apply_effects(seeded)
    assert schedules(seeded, "review-") == {}
    assert invoke(seeded, sender, step_event(request.id, 2)) == "not_active"
    assert len(review_mails(seeded)) == 1
    # done twice: nothing changes
    html = assert_page(pages.lambda_handler(page_event("review_done", token), FakeLambdaContext()), 200)
    assert "You had already told us" in html
    # the same appointment completed again starts nothing and leaves no schedule behind
    assert start(deps, catalog, appointment, datetime.now(UTC)) is None
    assert schedules(seeded, "review-") == {}
    # the customer can be asked again after a later visit (they did not opt out)
    later = start(deps, catalog, completed(catalog, days_ago=1), datetime.now(UTC))
    assert later is not None and later.id != request.id


def test_one_active_sequence_per_customer(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_appointment = completed(catalog, days_ago=6)
    first = start(deps, catalog, first_appointment, datetime.now(UTC))
    assert first is not None
    # another completed appointment of the customer while the first sequence runs: nothing
    assert start(deps, catalog, completed(catalog, days_ago=2), datetime.now(UTC)) is None
    # the same appointment completed twice: nothing more either
    assert start(deps, catalog, first_appointment, datetime.now(UTC)) is None
    assert [body_of(i)["id"] for i in items(seeded, "ReviewRequest")] == [first.id]
    assert list(schedules(seeded, "review-")) == [f"review-{first.id}-1"]
    # a start that loses the race to another one (it read the customer as free) writes nothing
    # and deletes the schedule it made
    racing = completed(catalog, days_ago=2)
    with monkeypatch.context() as patched:
        patched.setattr(deps.requests, "customer_state", CustomerReviewState)
        assert start(deps, catalog, racing, datetime.now(UTC)) is None
    assert list(schedules(seeded, "review-")) == [f"review-{first.id}-1"]
    assert len(items(seeded, "ReviewRequest")) == 1
    # another customer is not held up
    assert start(deps, catalog, completed(catalog, customer_id="cust-other"), datetime.now(UTC)) is not None
    # once the first sequence has finished, a later visit starts a new one
    for _ in range(3):
        fire(seeded, sender)
    assert stored_request(seeded, first.id)["status"]["S"] == "finished"
    assert start(deps, catalog, completed(catalog, days_ago=1), datetime.now(UTC)) is not None


def test_nothing_is_sent_while_review_requests_are_off(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any
) -> None:
    # Off at completion: nothing starts
    set_review_requests(seeded, enabled=False)
    off = CatalogRepository(seeded.table_name, REGION).catalog()
    assert start(deps, off, completed(catalog), datetime.now(UTC)) is None
    assert items(seeded, "ReviewRequest") == [] and schedules(seeded, "review-") == {}
    set_review_requests(seeded, enabled=True)
    # On at completion, turned off before step 2: step 1 goes, step 2 does not, the sequence stops
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    assert fire(seeded, sender) == [(f"review-{request.id}-1", "sent")]
    set_review_requests(seeded, enabled=False)
    assert fire(seeded, sender) == [(f"review-{request.id}-2", "disabled")]
    assert len(review_mails(seeded)) == 1
    item = stored_request(seeded, request.id)
    assert item["status"]["S"] == "stopped" and body_of(item)["end_reason"] == "review_requests_disabled"
    assert schedules(seeded, "review-") == {}
    state = customer_state(seeded)
    assert state is not None and "active_request_id" not in state and "opted_out" not in state


# ------------------------------------------------------------------------------ the page
def test_the_page_of_a_finished_sequence_says_so_and_unknown_links_are_404(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, pages: Any
) -> None:
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    for _ in range(3):
        fire(seeded, sender)
    token = review_token(review_mails(seeded)[0]["text"]["S"])
    html = assert_page(pages.lambda_handler(page_event("review_page_get", token), FakeLambdaContext()), 200)
    assert "That was our last e-mail about this visit" in html and "I left a review" not in html
    assert "Never ask me for a review again" in html and f'href="{REVIEW_URL}"' in html
    # unknown, malformed, or another kind of token: the 404 page
    for bad in ("A" * 32, "x", "not a token!"):
        response = pages.lambda_handler(page_event("review_page_get", bad), FakeLambdaContext())
        assert "This link is not valid" in assert_page(response, 404)
    staff_token = seed_appointment(catalog, local(next_weekday(datetime.now(UTC).date()), 10)).staff_token
    assert_page(pages.lambda_handler(page_event("review_page_get", staff_token), FakeLambdaContext()), 404)


def test_a_post_from_another_site_or_not_a_form_changes_nothing(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, pages: Any
) -> None:
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    fire(seeded, sender)
    token = review_token(review_mails(seeded)[0]["text"]["S"])
    before = table_items(seeded)
    cross_site = page_event("review_stop", token, **{"Sec-Fetch-Site": "cross-site"})
    assert_page(pages.lambda_handler(cross_site, FakeLambdaContext()), 403)
    not_a_form = with_body(page_event("review_done", token), '{"action": "done"}', "application/json")
    assert_page(pages.lambda_handler(not_a_form, FakeLambdaContext()), 415)
    assert table_items(seeded) == before


# ------------------------------------------------------------------------------ staff
def test_staff_list_the_queue_by_status_newest_first_with_cursors(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, admin: Any
) -> None:
    now = datetime.now(UTC)
    started = []
    for n in range(3):
        request = start(
            deps, catalog, completed(catalog, customer_id=f"cust-list-{n}"), now + timedelta(seconds=n)
        )
        assert request is not None
        started.append(request.id)
    response = admin_list(admin)
    assert response["statusCode"] == 200, response["body"]
    body = response_json(response)
    assert [r["id"] for r in body["review_requests"]] == list(reversed(started))
    assert body["review_requests"][0]["status"] == "active" and body["review_requests"][0]["steps_sent"] == 0
    # one at a time with the cursor
    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = response_json(admin_list(admin, **query))
        seen += [r["id"] for r in page["review_requests"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(started))
    # other statuses are their own lists
    assert response_json(admin_list(admin, status="stopped"))["review_requests"] == []
    # bad input: 4xx JSON errors
    first_page = response_json(admin_list(admin, limit="1"))
    for query, status, code in (
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"cursor": first_page["next_cursor"], "status": "done"}, 400, "invalid_cursor"),
        ({"status": "sometimes"}, 422, "validation_error"),
        ({"limit": "0"}, 422, "validation_error"),
        ({"limit": "1000"}, 422, "validation_error"),
    ):
        response = admin_list(admin, **query)
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (status, code), query


def test_staff_stop_a_sequence_audited_and_its_schedule_deleted(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, sender: Any, admin: Any
) -> None:
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    fire(seeded, sender)
    assert list(schedules(seeded, "review-")) == [f"review-{request.id}-2"]
    response = admin_stop(admin, request.id)
    assert response["statusCode"] == 200, response["body"]
    out = response_json(response)["review_request"]
    assert (out["id"], out["status"], out["ended_by"], out["steps_sent"]) == (
        request.id,
        "stopped",
        "staff",
        1,
    )
    assert stored_request(seeded, request.id)["status"]["S"] == "stopped"
    apply_effects(seeded)
    assert schedules(seeded, "review-") == {}
    audits = [
        json.loads(i["body"]["S"])
        for i in items(seeded, "Audit")
        if i["PK"]["S"] == keys.review_request_pk(request.id)
    ]
    stop_entry = next(a for a in audits if a["action"] == "review_request.stop")
    assert stop_entry["actor"]["sub"] == "7d1f0c1e-0b7c-4a53-9a8e-2f1b3c4d5e6f"
    assert stop_entry["changes"]["status"] == {"before": "active", "after": "stopped"}
    # a later step sends nothing; stopping again is a 409; an unknown id a 404
    assert invoke(seeded, sender, step_event(request.id, 2)) == "not_active"
    assert len(review_mails(seeded)) == 1
    again = admin_stop(admin, request.id)
    assert (again["statusCode"], response_json(again)["error"]["code"]) == (409, "invalid_transition")
    unknown = admin_stop(admin, "0000000000000000nosuch00")
    assert (unknown["statusCode"], response_json(unknown)["error"]["code"]) == (
        404,
        "review_request_not_found",
    )
    # the customer is free for a later sequence (staff stopped this one; the customer did not opt out)
    assert start(deps, catalog, completed(catalog, days_ago=1), datetime.now(UTC)) is not None


def test_the_admin_routes_need_a_staff_token(
    seeded: Stack, catalog: Catalog, deps: ReviewDeps, admin: Any
) -> None:
    request = start(deps, catalog, completed(catalog), datetime.now(UTC))
    assert request is not None
    stop_event = load_event("admin_review_requests_stop")
    stop_event["path"] = f"/v1/admin/review-requests/{request.id}/stop"
    stop_event["pathParameters"] = {"request_id": request.id}
    for event in (load_event("admin_review_requests_list"), stop_event):
        event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "customers"
        response = admin.lambda_handler(event, FakeLambdaContext())
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (403, "forbidden")
        del event["requestContext"]["authorizer"]
        response = admin.lambda_handler(event, FakeLambdaContext())
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (401, "unauthorized")
    assert stored_request(seeded, request.id)["status"]["S"] == "active"
