"""Review requests: a completed appointment's customer gets a sequence of e-mails asking for a
review (the shop's ``review_requests``: ``enabled``, ``review_url``, ``steps_days``), each with
the review site's link and a fresh ``/r/<token>`` page ("I left a review", "Stop these e-mails").
The states and step times are in ``bookbay.domain.review_requests``.

Starting (``start_for_completed``: the ``review.start`` effect that the ``complete`` transition
writes in its own transaction, applied by the outbox worker with retries). Nothing starts while
``review_requests.enabled`` is off, while the customer has an active sequence
(one at a time), or once they opted out (never again). Otherwise step 1's one-time EventBridge
Scheduler schedule (``review-<id>-1``, ActionAfterCompletion DELETE) is created FIRST
and the request written after it: a schedule whose request was never written finds nothing and
sends nothing, whereas a request written without its schedule would stay active for ever and keep
the customer from later sequences. A failure raises, and the worker applies the effect again
later: the review requests of a completed visit are delayed by an outage, never lost.

Sending (``send_step``, the review-request function's work when a schedule fires with
``{"review_request": <id>, "step": <n>}``). The schedule is only a wake-up call: the request is
re-read and step n goes out only while it is active and n is the step due. Nothing goes out when
the shop has turned review requests off meanwhile: the sequence is then stopped (by the system).
The e-mail, its link token, a receipt ``STEP#<n>`` and the request's new state (next step's time,
or ``finished`` after the last step) are one transaction, conditional on the receipt not existing
and the request not having changed, so a repeated or stale schedule sends nothing. The next
step's schedule is created after that commits; if that fails the invocation fails, and its retry
finds step n sent and creates the next schedule again (creating a schedule is idempotent by name).

Ending. The customer's page ends the sequence as ``done`` or ``opted_out`` (an opt-out also
marks the customer, so no later sequence starts); staff ``stop`` it. The end is written with a
``review.unschedule`` effect that deletes the next step's schedule (applied by the outbox worker,
with retries; the sender re-reads the request anyway, so a schedule left behind sends nothing).
GET of the page never changes anything (mail scanners fetch links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from bookbay.adapters.scheduler import EventBridgeScheduler, Scheduler, ScheduleTarget
from bookbay.domain import effects
from bookbay.domain import review_requests as domain
from bookbay.domain.audit import CUSTOMER, SYSTEM, Actor, diff
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog, Location, Service, Shop
from bookbay.domain.effects import Effect
from bookbay.domain.ids import new_id
from bookbay.domain.messages import OutboundMessage
from bookbay.domain.review_requests import ReviewRequest, ReviewStatus
from bookbay.exceptions import LinkInactive, NotFound, StaleWrite
from bookbay.observability import logger, metrics
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.audit import entry
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.review_requests import (
    CustomerReviewState,
    ReviewPage,
    ReviewRequestRepository,
    StoredReviewRequest,
)
from bookbay.services import links
from bookbay.services.notifications import SUBJECT_MAX, AppointmentDetails
from bookbay.services.reminders import ReminderScheduling
from bookbay.templates import render

REQUEST_EVENT_KEY = "review_request"
STEP_EVENT_KEY = "step"
SCHEDULE_FAILED_METRIC = "ReviewScheduleFailed"
LINK_KIND: links.LinkKind = "review"
WRITE_ATTEMPTS = 2  # a page's write that lost a race is tried once more on what is stored now

SendOutcome = Literal["sent", "already_sent", "not_due", "not_active", "disabled", "stale", "gone"]
PageOutcome = Literal["shown", "done", "already_done", "opted_out", "already_opted_out", "ended"]

NOT_VALID = "This link is not valid. Open the whole link from the e-mail we sent you."


class ReviewRequestNotFound(NotFound):
    code = "review_request_not_found"


# ------------------------------------------------------------------------------ dependencies
@dataclass(frozen=True)
class ReviewDeps:
    """What starting and sending a sequence need: the requests, the catalog (read when a step goes
    out), the scheduler with the review-request function as the steps' target, and the public
    base URL of the links (PublicBaseUrl)."""

    requests: ReviewRequestRepository
    catalog: CatalogRepository
    scheduling: ReminderScheduling
    public_base_url: str = ""

    @classmethod
    def build(
        cls,
        *,
        table_name: str,
        region: str,
        schedule_target: ScheduleTarget,
        target_arn: str,
        public_base_url: str = "",
        catalog_cache_seconds: float = 0.0,
        scheduler_client: Any | None = None,
    ) -> ReviewDeps:
        """From a function's configuration: TABLE_NAME, AWS_REGION, the schedule group, scheduler
        role and DLQ (``ScheduleTarget``), the review-request function's ARN (REVIEW_FUNCTION_ARN,
        ``!GetAtt ReviewRequestsFunction.Arn``) and PUBLIC_BASE_URL."""
        return cls(
            requests=ReviewRequestRepository(table_name, region),
            catalog=CatalogRepository(table_name, region, cache_seconds=catalog_cache_seconds),
            scheduling=ReminderScheduling(
                EventBridgeScheduler(schedule_target, scheduler_client), target_arn
            ),
            public_base_url=public_base_url,
        )


@dataclass(frozen=True)
class ReviewPageDeps:
    """The /r/<token> pages: the link's appointment and catalog, and the requests."""

    appointments: AppointmentRepository
    catalog: CatalogRepository
    requests: ReviewRequestRepository


# ------------------------------------------------------------------------------ starting
def start_for_completed(
    deps: ReviewDeps, appointment: Appointment, catalog: Catalog, actor: Actor, now: datetime
) -> ReviewRequest | None:
    """Put the customer of the completed ``appointment`` in the review-request queue and schedule
    step 1 (the ``review.start`` effect of ``complete``; see the module docstring). None when
    nothing starts: review requests off, the appointment no longer completed, the customer busy
    with another sequence or opted out. Scheduler and table errors propagate: the outbox worker
    retries the effect, and starting twice is harmless (the request's id is the appointment's)."""
    settings = catalog.shop.settings.review_requests
    if not settings.enabled:
        logger.info("review requests off", extra={"appointment_id": appointment.id})
        return None
    if appointment.status != "completed":
        logger.warning(
            "review request for an appointment that is not completed",
            extra={"appointment_id": appointment.id, "status": appointment.status},
        )
        return None
    return _start(deps, appointment, catalog, actor, now)


def _start(
    deps: ReviewDeps, appointment: Appointment, catalog: Catalog, actor: Actor, now: datetime
) -> ReviewRequest | None:
    state = deps.requests.customer_state(appointment.customer_id)
    if state.opted_out or state.active_request_id is not None:
        logger.info(
            "review request not started: " + ("customer opted out" if state.opted_out else "one is active"),
            extra={"appointment_id": appointment.id, "active_request_id": state.active_request_id},
        )
        return None
    settings = catalog.shop.settings
    steps = list(settings.review_requests.steps_days)
    # The steps count from the completion, not from when this effect ran (a Scheduler outage
    # delays the start; a step already past is caught up from now).
    completed_at = appointment.completed_at or now
    first_at = domain.step_at(
        completed_at, steps[0], _timezone(catalog, appointment.location_id), settings.reminder_time, now
    )
    request = ReviewRequest(
        id=appointment.id,
        appointment_id=appointment.id,
        customer_id=appointment.customer_id,
        location_id=appointment.location_id,
        service_id=appointment.service_id,
        visit_start=appointment.start,
        first_name=appointment.contact.first_name,
        email=appointment.contact.email,
        steps_days=steps,
        completed_at=completed_at,
        created_at=now,
        updated_at=now,
        next_step_at=first_at,
    )
    _schedule(deps.scheduling, request.id, 1, first_at)
    audit = entry(actor, "review_request.start", now, diff({}, {"status": "active", "steps_days": steps}))
    outcome = deps.requests.start(request, audit)
    if outcome == "exists":
        # This appointment's request was written before: its step 1 schedule (the same name) is
        # ours to delete only when that request is past step 1 or over.
        existing = deps.requests.get(request.id)
        if existing is None or existing.next_step != 1:
            unschedule_step(deps.scheduling.scheduler, request.id, 1)
    elif outcome == "customer_unavailable":
        # Another sequence started (or the customer opted out) meanwhile: our schedule is ours alone.
        unschedule_step(deps.scheduling.scheduler, request.id, 1)
    if outcome != "started":
        logger.info(f"review request not started: {outcome}", extra={"appointment_id": appointment.id})
        return None
    logger.info(
        "review request started",
        extra={"request_id": request.id, "steps_days": steps, "first_at": first_at.isoformat()},
    )
    return request


# ------------------------------------------------------------------------------ sending
def send_step(deps: ReviewDeps, request_id: str, step: int, now: datetime) -> SendOutcome:
    """The review-request function's work when step ``step``'s schedule fires (see the module
    docstring): send it if it is still due, else (or a second time) nothing."""
    request = deps.requests.get(request_id)
    if request is None:
        return _sent("gone", request_id, step)
    not_due = _not_due(deps, request, step)
    if not_due is not None:
        return not_due
    catalog = deps.catalog.catalog()
    settings = catalog.shop.settings
    review_url = settings.review_requests.review_url
    if not settings.review_requests.enabled or not review_url:
        return _stop_disabled(deps, request, step, now)

    last = step == request.last_step
    next_at = (
        None
        if last
        else domain.step_time(
            request, step + 1, _timezone(catalog, request.location_id), settings.reminder_time, now
        )
    )
    after = domain.step_sent(request, step, now, next_at)
    base = links.public_base_url(deps.public_base_url)
    page_url, link = links.new_link(base, LINK_KIND, request.id, link_end(request))
    message = review_message(catalog, request, step, review_url=review_url, page_url=page_url, now=now)
    written = deps.requests.record_step(request, after, step=step, message=message, link=link, now=now)
    if written == "already_sent":
        return _sent("already_sent", request_id, step)
    if written == "changed":
        return _sent("stale", request_id, step)
    if next_at is not None:
        _schedule_next(deps, request.id, step + 1, next_at)
    return _sent("sent", request_id, step, message_id=message.id, finished=last)


def _not_due(deps: ReviewDeps, request: StoredReviewRequest, step: int) -> SendOutcome | None:
    """Why step ``step`` of ``request`` does not go out now (None: it is the step due)."""
    if not request.is_active:
        return _sent("not_active", request.id, step, status=request.status)
    if request.steps_sent >= step:
        if request.steps_sent == step and request.next_step_at is not None:
            # A repeat of a step that went out: make sure the next one is scheduled (an earlier
            # invocation may have failed right after sending).
            _schedule_next(deps, request.id, step + 1, request.next_step_at)
        return _sent("already_sent", request.id, step)
    if request.steps_sent != step - 1:
        return _sent("not_due", request.id, step, steps_sent=request.steps_sent)
    return None


def _stop_disabled(deps: ReviewDeps, request: StoredReviewRequest, step: int, now: datetime) -> SendOutcome:
    """The shop turned review requests off: nothing is sent, and the sequence stops here (turning
    them on again later does not resume e-mails about a visit that long ago)."""
    stopped = domain.end(request, "stopped", now, by="system", reason=domain.REVIEW_REQUESTS_DISABLED)
    audit = entry(
        SYSTEM,
        "review_request.stop",
        now,
        diff({"status": request.status}, {"status": stopped.status}),
        note="Review requests are turned off in the shop settings.",
    )
    try:
        deps.requests.end(request, stopped, audit)
    except StaleWrite:
        return _sent("stale", request.id, step)
    return _sent("disabled", request.id, step)


def link_end(request: ReviewRequest) -> datetime:
    """What a review link's token lifetime counts from: the sequence's last step (the token is
    kept ``links.KEEP_AFTER_END["review"]`` after it, so late clicks still find their page)."""
    return request.completed_at + timedelta(days=request.steps_days[-1] + 1)


def _sent(outcome: SendOutcome, request_id: str, step: int, **extra: object) -> SendOutcome:
    logger.info(f"review step: {outcome}", extra={"request_id": request_id, "step": step, **extra})
    return outcome


# ------------------------------------------------------------------------------ the e-mail
@dataclass(frozen=True)
class ReviewDetails:
    """What a review e-mail shows (``d`` in the templates; the e-mail layout reads ``d.shop``)."""

    shop: Shop
    location: Location | None
    service: Service | None
    request: ReviewRequest
    step: int

    @property
    def visit(self) -> datetime:
        return self.request.visit_start

    @property
    def is_last(self) -> bool:
        return self.step == self.request.last_step


def review_message(
    catalog: Catalog,
    request: ReviewRequest,
    step: int,
    *,
    review_url: str,
    page_url: str,
    now: datetime,
) -> OutboundMessage:
    """Step ``step``'s e-mail (HTML + text) to the request's e-mail address."""
    d = ReviewDetails(
        shop=catalog.shop,
        location=catalog.location(request.location_id),
        service=catalog.service(request.service_id),
        request=request,
        step=step,
    )
    subject = (
        f"How was your visit to {d.shop.name}?"
        if step == 1
        else f"Would you review your visit to {d.shop.name}?"
    )
    context: dict[str, Any] = {"d": d, "review_url": review_url, "page_url": page_url}
    return OutboundMessage(
        id=new_id(),
        channel="email",
        to=request.email,
        subject=subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 3] + "...",
        text=render("email/review_request.txt", **context),
        html=render("email/review_request.html", **context),
        reference=f"review:{request.id}:{step}",
        created_at=now,
    )


# ------------------------------------------------------------------------------ the customer's page
@dataclass(frozen=True)
class ReviewView:
    """What the /r/<token> page shows."""

    details: AppointmentDetails
    request: ReviewRequest
    review_url: str | None
    outcome: PageOutcome = "shown"

    @property
    def status(self) -> ReviewStatus:
        return self.request.status

    @property
    def can_answer(self) -> bool:
        """The sequence is running: "I left a review" and "Stop these e-mails" apply to it."""
        return self.request.is_active

    @property
    def can_opt_out(self) -> bool:
        """A customer who has not opted out can still ask never to be asked again."""
        return self.status != "opted_out" and self.outcome not in ("opted_out", "already_opted_out")

    @property
    def headline(self) -> str:
        key = self.status if self.outcome == "shown" else self.outcome
        return _HEADLINES[key]

    @property
    def notice(self) -> str | None:
        shop = self.details.shop.name
        notices: dict[str, str | None] = {
            "done": "Thank you! We will not send you more e-mails about this visit.",
            "already_done": "You had already told us. Thank you! No more e-mails about this visit.",
            "opted_out": f"Done. You will not get review e-mails from {shop} again.",
            "already_opted_out": f"You had already asked us to stop. You will not get review e-mails "
            f"from {shop} again.",
            "ended": "These e-mails about your visit have already stopped; nothing more will be sent. "
            "Thank you!",
        }
        if self.outcome != "shown":
            return notices[self.outcome]
        by_status: dict[ReviewStatus, str | None] = {
            "active": None,
            "done": "You told us you left a review. Thank you!",
            "opted_out": f"You asked us to stop. You will not get review e-mails from {shop} again.",
            "stopped": "We are no longer sending e-mails about this visit.",
            "finished": "That was our last e-mail about this visit. Thank you for choosing us!",
        }
        return by_status[self.status]


_HEADLINES: dict[str, str] = {
    "active": "How did we do?",
    "done": "Thank you for your review",
    "already_done": "Thank you for your review",
    "opted_out": "No more review e-mails",
    "already_opted_out": "No more review e-mails",
    "stopped": "These e-mails have stopped",
    "finished": "Thank you for your visit",
    "ended": "These e-mails have stopped",
}


def show(deps: ReviewPageDeps, token: str, now: datetime) -> ReviewView:
    """The review page of a link. Reads only."""
    details, request = _load(deps, token, now)
    return _view(details, request, "shown")


def mark_done(deps: ReviewPageDeps, token: str, now: datetime) -> ReviewView:
    """ "I left a review": the sequence ends as ``done`` (no more e-mails). Pressed again, or on a
    sequence that has already ended, it changes nothing and says so."""
    details, request = _load(deps, token, now)
    for attempt in range(WRITE_ATTEMPTS):
        if request.status == "done":
            return _view(details, request, "already_done")
        if not request.is_active:
            return _view(details, request, "ended")
        done = domain.end(request, "done", now, by="customer")
        audit = entry(
            CUSTOMER, "review_request.done", now, diff({"status": request.status}, {"status": "done"})
        )
        try:
            stored = deps.requests.end(request, done, audit, _unschedule(request, now))
        except StaleWrite:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            request = _reload(deps, request.id)
            continue
        logger.info("review request done", extra={"request_id": request.id})
        return _view(details, stored, "done")
    raise AssertionError("unreachable")  # pragma: no cover


def opt_out(deps: ReviewPageDeps, token: str, now: datetime) -> ReviewView:
    """ "Stop these e-mails": the customer is never asked again. Their active sequence (this one,
    or a later one when the link is from an earlier sequence) ends as ``opted_out``, and the
    customer's review state says opted out, in one transaction. Pressed again: nothing changes."""
    details, request = _load(deps, token, now)
    for attempt in range(WRITE_ATTEMPTS):
        state = deps.requests.customer_state(request.customer_id)
        if state.opted_out:
            return _view(details, request, "already_opted_out")
        try:
            ended = _opt_out(deps, state, request, now)
        except StaleWrite:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            request = _reload(deps, request.id)
            continue
        if ended is not None and ended.id == request.id:
            request = ended
        logger.info("review requests: customer opted out", extra={"request_id": request.id})
        return _view(details, request, "opted_out")
    raise AssertionError("unreachable")  # pragma: no cover


def _opt_out(
    deps: ReviewPageDeps, state: CustomerReviewState, page_request: StoredReviewRequest, now: datetime
) -> StoredReviewRequest | None:
    """Opt the customer out; returns the sequence that ended with it (None: none was active)."""
    active: StoredReviewRequest | None = None
    if state.active_request_id is not None:
        active = (
            page_request
            if state.active_request_id == page_request.id
            else deps.requests.get(state.active_request_id)
        )
    if active is not None and active.is_active:
        opted_out = domain.end(active, "opted_out", now, by="customer")
        audit = entry(
            CUSTOMER, "review_request.opt_out", now, diff({"status": active.status}, {"status": "opted_out"})
        )
        return deps.requests.end(active, opted_out, audit, _unschedule(active, now))
    audit = entry(CUSTOMER, "review_request.opt_out", now, note="Never ask this customer for a review again.")
    deps.requests.opt_out_customer(state, now, audit, subject_request_id=page_request.id)
    return None


def _load(deps: ReviewPageDeps, token: str, now: datetime) -> tuple[AppointmentDetails, StoredReviewRequest]:
    """The appointment and the review request behind a review link (its id is the appointment's):
    LinkNotFound (404) for a malformed or unknown token. The page works in every state."""
    linked = links.open_link(
        deps.appointments,
        deps.catalog,
        token,
        LINK_KIND,
        now,
        active=lambda _appointment, _now: True,
        not_valid=NOT_VALID,
        inactive=NOT_VALID,
    )
    request = deps.requests.get(linked.appointment.id)
    if request is None:  # the link outlived its request (never written that way): say it is over
        raise LinkInactive("These e-mails have ended. Thank you for your visit.")
    return linked.details, request


def _reload(deps: ReviewPageDeps, request_id: str) -> StoredReviewRequest:
    again = deps.requests.get(request_id)
    if again is None:
        raise LinkInactive("These e-mails have ended. Thank you for your visit.")
    return again


def _view(details: AppointmentDetails, request: ReviewRequest, outcome: PageOutcome) -> ReviewView:
    settings = details.shop.settings.review_requests
    # The catalog in the details is the one the link was opened with (read once per request).
    return ReviewView(details, request, settings.review_url if settings.enabled else None, outcome)


# ------------------------------------------------------------------------------ staff
def list_requests(
    requests: ReviewRequestRepository, status: ReviewStatus, *, limit: int, cursor: str | None
) -> ReviewPage:
    """One page of the queue in ``status``, newest first (InvalidCursor: a cursor of no page)."""
    return requests.list(status, limit=limit, cursor=cursor)


def stop(
    requests: ReviewRequestRepository, request_id: str, actor: Actor, now: datetime
) -> StoredReviewRequest:
    """Staff stop an active sequence: ``stopped``, audited, and its next schedule deleted (an
    effect of the same write). ReviewRequestNotFound (404); InvalidTransition (409) when it is not active;
    StaleWrite (409) when it changed while being stopped."""
    request = requests.get(request_id)
    if request is None:
        raise ReviewRequestNotFound("There is no review request with this id.")
    stopped = domain.end(request, "stopped", now, by="staff", reason=domain.STOPPED_BY_STAFF)
    audit = entry(actor, "review_request.stop", now, diff({"status": request.status}, {"status": "stopped"}))
    stored = requests.end(request, stopped, audit, _unschedule(request, now))
    logger.info("review request stopped by staff", extra={"request_id": request.id})
    return stored


# ------------------------------------------------------------------------------ schedules
def _timezone(catalog: Catalog, location_id: str) -> str:
    """The store's zone (the shop's if the store left the catalog)."""
    location = catalog.location(location_id)
    return location.timezone if location is not None else catalog.shop.timezone


def _payload(request_id: str, step: int) -> dict[str, Any]:
    return {REQUEST_EVENT_KEY: request_id, STEP_EVENT_KEY: step}


def _schedule(scheduling: ReminderScheduling, request_id: str, step: int, at: datetime) -> None:
    name = effects.review_schedule(request_id, step)
    scheduling.scheduler.schedule_once(name, at, scheduling.target_arn, _payload(request_id, step))


def _schedule_next(deps: ReviewDeps, request_id: str, step: int, at: datetime) -> None:
    """Schedule step ``step``; a failure is logged with the metric and raised (the invocation
    fails and its retry schedules it again)."""
    try:
        _schedule(deps.scheduling, request_id, step, at)
    except Exception:
        logger.exception("review step not scheduled", extra={"request_id": request_id, "step": step})
        metrics.add_metric(name=SCHEDULE_FAILED_METRIC, unit=MetricUnit.Count, value=1)
        raise
    logger.info("review step scheduled", extra={"request_id": request_id, "step": step, "at": at.isoformat()})


def _unschedule(request: ReviewRequest, now: datetime) -> list[Effect]:
    """The effect that deletes the schedule of the step an ending sequence still waits for."""
    step = request.next_step
    return [effects.review_unschedule(request.id, step, now)] if step is not None else []


def unschedule_step(scheduler: Scheduler, request_id: str, step: int) -> None:
    """The ``review.unschedule`` effect: delete step ``step``'s schedule (none: nothing to do).
    Scheduler errors propagate (the worker retries)."""
    scheduler.delete(effects.review_schedule(request_id, step))
