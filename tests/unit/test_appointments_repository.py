"""How a cancelled appointment transaction is answered: which item failed, and how (no AWS here:
the transaction is a stand-in that fails as DynamoDB would)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from bookbay.exceptions import SlotUnavailable, StaleWrite
from bookbay.repositories import transactions as module
from bookbay.repositories.appointments import _failure
from bookbay.repositories.transactions import LabelledTransaction, write_transaction

LABELS = ["outbox", "link", "release", "hold", "hold", "appointment"]


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=c) if c is not None else None for c in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("Failed to write transaction items", cause)


def other_error(code: str) -> TransactWriteError:
    return TransactWriteError(
        "Failed", VerboseClientError({"Error": {"Code": code, "Message": "no"}}, "TransactWriteItems")
    )


class FakeTransaction:
    """Fails (or not) at commit, in turn, as ``outcomes`` says."""

    outcomes: ClassVar[list[Exception | None]] = []
    commits: ClassVar[int] = 0

    def __init__(self, **_: Any) -> None:
        pass

    def __enter__(self) -> FakeTransaction:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        FakeTransaction.commits += 1
        outcome = FakeTransaction.outcomes.pop(0)
        if outcome is not None:
            raise outcome


@pytest.fixture
def write(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(module, "TransactWrite", FakeTransaction)
    FakeTransaction.commits = 0

    def build(tx: LabelledTransaction) -> None:
        for label in LABELS:
            tx.updated(1, label)

    def run(*outcomes: Exception | None) -> None:
        FakeTransaction.outcomes = list(outcomes)
        write_transaction(build, _failure, sleep=lambda _: None)

    return run


def test_a_full_or_blocked_slot_is_slot_unavailable(write: Any) -> None:
    with pytest.raises(SlotUnavailable):
        write(cancelled(None, None, None, None, "ConditionalCheckFailed", None))


def test_a_changed_appointment_is_a_stale_write(write: Any) -> None:
    with pytest.raises(StaleWrite):
        write(cancelled("None", "None", "None", "None", "None", "ConditionalCheckFailed"))


def test_a_release_below_zero_is_a_stale_write(write: Any) -> None:
    with pytest.raises(StaleWrite):
        write(cancelled(None, None, "ConditionalCheckFailed", None, None, None))


def test_a_collision_with_another_transaction_is_tried_again(write: Any) -> None:
    write(cancelled(None, None, None, "TransactionConflict", None, None), None)
    assert FakeTransaction.commits == 2


def test_collisions_that_persist_are_a_stale_write(write: Any) -> None:
    conflict = cancelled(None, None, None, None, None, "TransactionConflict")
    with pytest.raises(StaleWrite):
        write(*[conflict] * module.TRANSACTION_ATTEMPTS)
    assert FakeTransaction.commits == module.TRANSACTION_ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [cancelled(None, None, None, None, None, "ValidationError"), other_error("ThrottlingException")],
)
def test_other_failures_are_not_hidden(write: Any, error: TransactWriteError) -> None:
    with pytest.raises(TransactWriteError):
        write(error)
    assert FakeTransaction.commits == 1
