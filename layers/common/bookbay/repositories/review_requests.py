"""Review requests in the domain table: the request (REVIEW#<id>), its step receipts (STEP#<n>),
the customer's review state (CUSTOMER#<id> / REVIEWS) and the staff queue on GSI3.

Every change is ONE TransactWriteItems. The request is written conditional on the version read
(and on its status); the customer's item is written with it, conditional on what was read of it,
so the two rules hold under concurrency: at most one active sequence per customer (a start needs
no active one), and an opted-out customer is never asked again (a start needs no opt-out; the
opt-out ends the active sequence in the same transaction). Outbox messages, link tokens and audit
entries are written in the transaction of the change they belong to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from bookbay.domain.audit import AuditEntry
from bookbay.domain.effects import Effect, NewLink
from bookbay.domain.messages import OutboundMessage
from bookbay.domain.review_requests import ReviewRequest, ReviewStatus
from bookbay.exceptions import StaleWrite
from bookbay.models import keys
from bookbay.models.review_requests import ReviewCustomerItem, ReviewRequestItem, ReviewStepSentItem
from bookbay.models.table import bind_table
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.appointments import put_all
from bookbay.repositories.pagination import GSI3_CURSOR_KEYS, decode_cursor, gsi3_key, take
from bookbay.repositories.transactions import LabelledTransaction, Refused, write_transaction

StartOutcome = Literal["started", "exists", "customer_unavailable"]
StepOutcome = Literal["written", "already_sent", "changed"]
# A step receipt only guards against repeated deliveries of its schedule (hours, not months).
RECEIPT_KEEP = timedelta(days=180)


class StoredReviewRequest(ReviewRequest):
    """A review request as read, with the storage version its next write is conditional on."""

    version: int = Field(exclude=True, ge=0)


@dataclass(frozen=True)
class CustomerReviewState:
    """What the customer's REVIEWS item says (no item: neither active nor opted out)."""

    customer_id: str
    active_request_id: str | None = None
    opted_out: bool = False
    exists: bool = False


@dataclass(frozen=True)
class ReviewPage:
    requests: list[StoredReviewRequest]
    next_cursor: str | None


class ReviewRequestRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ reads
    def get(self, request_id: str) -> StoredReviewRequest | None:
        try:
            item = ReviewRequestItem.get(
                keys.review_request_pk(request_id), keys.REVIEW_REQUEST_SK, consistent_read=True
            )
        except DoesNotExist:
            return None
        return _stored(item)

    def customer_state(self, customer_id: str) -> CustomerReviewState:
        try:
            item = ReviewCustomerItem.get(
                keys.customer_pk(customer_id), keys.REVIEW_CUSTOMER_SK, consistent_read=True
            )
        except DoesNotExist:
            return CustomerReviewState(customer_id)
        return CustomerReviewState(
            customer_id,
            active_request_id=item.active_request_id,
            opted_out=bool(item.opted_out),
            exists=True,
        )

    def list(self, status: ReviewStatus, *, limit: int, cursor: str | None = None) -> ReviewPage:
        """One page of the requests in ``status``, newest first (one Query on GSI3). ``cursor``
        is a previous page's ``next_cursor``; InvalidCursor when it is not one (of this status)."""
        partition, _ = keys.review_gsi3(status, "", "")
        start = decode_cursor(cursor, GSI3_CURSOR_KEYS, _list_key(partition)) if cursor else None
        results = ReviewRequestItem.gsi3.query(
            partition, scan_index_forward=False, page_size=limit, last_evaluated_key=start
        )
        items, next_cursor = take(results, limit, lambda item: isinstance(item, ReviewRequestItem), gsi3_key)
        return ReviewPage(
            [_stored(item) for item in items if isinstance(item, ReviewRequestItem)], next_cursor
        )

    # ------------------------------------------------------------------ changes
    def start(self, request: ReviewRequest, entry: AuditEntry) -> StartOutcome:
        """Write a new active request and make it its customer's active sequence, with ``entry``.

        ``exists``: this appointment has a request already; ``customer_unavailable``: the customer
        has another active sequence or opted out (nothing written either way).
        """

        def build(tx: LabelledTransaction) -> None:
            tx.save(_new_item(request), ReviewRequestItem.pk.does_not_exist(), "request")
            tx.save(
                ReviewCustomerItem(
                    keys.customer_pk(request.customer_id),
                    keys.REVIEW_CUSTOMER_SK,
                    active_request_id=request.id,
                ),
                ReviewCustomerItem.active_request_id.does_not_exist()
                & (ReviewCustomerItem.opted_out.does_not_exist() | (ReviewCustomerItem.opted_out == False)),  # noqa: E712
                "customer",
            )
            audit.add_to(tx, keys.review_request_pk(request.id), entry)

        try:
            write_transaction(build, Refused)
        except Refused as exc:
            if "request" in exc.failed:
                return "exists"
            if "customer" in exc.failed:
                return "customer_unavailable"
            raise StaleWrite("The review request is being changed right now; try again.") from exc
        return "started"

    def record_step(
        self,
        before: StoredReviewRequest,
        after: ReviewRequest,
        *,
        step: int,
        message: OutboundMessage,
        link: NewLink,
        now: datetime,
        effects: Sequence[Effect] = (),
    ) -> StepOutcome:
        """Enqueue step ``step``'s e-mail with its link and receipt, and write ``after`` (still
        active, or finished after the last step: then the customer has no active sequence), if the
        request is unchanged since it was read.

        ``already_sent``: the receipt exists; ``changed``: the request changed meanwhile (nothing
        written either way). Raises StaleWrite when other writes kept colliding with this one.
        """

        def build(tx: LabelledTransaction) -> None:
            put_all(tx, [message], [link], effects)
            tx.save(
                ReviewStepSentItem(
                    keys.review_request_pk(before.id),
                    keys.review_step_sk(step),
                    message_id=message.id,
                    sent_at=now,
                    expires_at=now + RECEIPT_KEEP,
                ),
                ReviewStepSentItem.pk.does_not_exist(),
                "receipt",
            )
            if not after.is_active:
                _release_customer(tx, before)
            _update_request(tx, before, after)

        try:
            write_transaction(build, Refused)
        except Refused as exc:
            if "receipt" in exc.failed:
                return "already_sent"
            if not exc.failed:
                raise StaleWrite("The review request is being changed right now; try again.") from exc
            if exc.failed != {"request"}:
                logger.error(
                    "review step refused", extra={"request_id": before.id, "failed": sorted(exc.failed)}
                )
            return "changed"
        return "written"

    def end(
        self,
        before: StoredReviewRequest,
        after: ReviewRequest,
        entry: AuditEntry,
        effects: Sequence[Effect] = (),
    ) -> StoredReviewRequest:
        """Write ``after``, an end state of the active ``before`` (done, stopped, opted out), and
        free its customer for a later sequence (opted out: for none, ever), with ``entry`` and
        ``effects`` (deleting the next step's schedule).

        Raises StaleWrite when the request changed since it was read.
        """

        def build(tx: LabelledTransaction) -> None:
            _release_customer(
                tx, before, opted_out_at=after.ended_at if after.status == "opted_out" else None
            )
            audit.add_to(tx, keys.review_request_pk(before.id), entry)
            put_all(tx, effects=effects)
            _update_request(tx, before, after)

        write_transaction(build, _stale)
        return StoredReviewRequest.model_validate({**after.model_dump(), "version": before.version + 1})

    def opt_out_customer(
        self,
        customer: CustomerReviewState,
        now: datetime,
        entry: AuditEntry,
        *,
        subject_request_id: str,
    ) -> None:
        """Mark a customer without an active sequence as opted out (never asked again), with
        ``entry`` under the request whose page asked for it. (A customer with an active sequence
        is opted out by ending it: ``end`` with an ``opted_out`` request.) Raises StaleWrite when
        the customer's state changed since ``customer`` was read (e.g. a sequence started)."""

        def build(tx: LabelledTransaction) -> None:
            condition: Condition
            if customer.active_request_id is not None:
                # It names a sequence that is no longer active (never left that way): replaced.
                condition = ReviewCustomerItem.active_request_id == customer.active_request_id
            elif customer.exists:
                condition = ReviewCustomerItem.active_request_id.does_not_exist()
            else:
                condition = ReviewCustomerItem.pk.does_not_exist()
            tx.save(
                ReviewCustomerItem(
                    keys.customer_pk(customer.customer_id),
                    keys.REVIEW_CUSTOMER_SK,
                    opted_out=True,
                    opted_out_at=now,
                ),
                condition,
                "customer",
            )
            audit.add_to(tx, keys.review_request_pk(subject_request_id), entry)

        write_transaction(build, _stale)


# ------------------------------------------------------------------------------ items
def _created_key(request: ReviewRequest) -> str:
    return request.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_item(request: ReviewRequest) -> ReviewRequestItem:
    gsi3pk, gsi3sk = keys.review_gsi3(request.status, _created_key(request), request.id)
    return ReviewRequestItem(
        keys.review_request_pk(request.id),
        keys.REVIEW_REQUEST_SK,
        body=request.model_dump(mode="json"),
        status=request.status,
        gsi3pk=gsi3pk,
        gsi3sk=gsi3sk,
    )


def _update_request(tx: LabelledTransaction, before: StoredReviewRequest, after: ReviewRequest) -> None:
    if after.id != before.id:
        raise ValueError("a change of a review request keeps its id")
    item = ReviewRequestItem(keys.review_request_pk(before.id), keys.REVIEW_REQUEST_SK)
    # The update adds the condition "version = <as read>" and increments it.
    item.version = before.version or None
    gsi3pk, _ = keys.review_gsi3(after.status, _created_key(after), after.id)
    tx.update(
        item,
        [
            ReviewRequestItem.body.set(after.model_dump(mode="json")),
            ReviewRequestItem.status.set(after.status),
            ReviewRequestItem.gsi3pk.set(gsi3pk),
        ],
        "request",
        condition=ReviewRequestItem.status == before.status,
    )


def _release_customer(
    tx: LabelledTransaction, request: ReviewRequest, *, opted_out_at: datetime | None = None
) -> None:
    """The customer's item once ``request`` (their active sequence) ends: no active sequence;
    opted out from ``opted_out_at`` when given (an active customer was not opted out before)."""
    tx.save(
        ReviewCustomerItem(
            keys.customer_pk(request.customer_id),
            keys.REVIEW_CUSTOMER_SK,
            opted_out=True if opted_out_at else None,
            opted_out_at=opted_out_at,
        ),
        ReviewCustomerItem.active_request_id == request.id,
        "customer",
    )


def _stored(item: ReviewRequestItem) -> StoredReviewRequest:
    return StoredReviewRequest.model_validate({**item.body, "version": item.version or 0})


def _stale(failed: set[str]) -> Exception:
    if failed - {"request", "customer"}:
        logger.error("review request change refused", extra={"failed": sorted(failed)})
    return StaleWrite("The review request changed meanwhile; load it again.")


# ------------------------------------------------------------------------------ cursors
def _list_key(partition: str) -> Callable[[dict[str, str]], bool]:
    """Whether a cursor's key is one of the ``partition`` list's (a review request of that status),
    so a cursor can neither be forged into another partition nor point at another kind of item."""

    def valid(key: dict[str, str]) -> bool:
        return (
            key["GSI3PK"] == partition
            and key["SK"] == keys.REVIEW_REQUEST_SK
            and key["PK"].startswith(keys.review_request_pk(""))
        )

    return valid
