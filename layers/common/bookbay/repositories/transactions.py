"""Running a DynamoDB transaction: what each item is, what a cancellation was about, and retries.

DynamoDB cancels a transaction with one reason per item. Items are labelled as they are added,
in the order DynamoDB gets them (pynamodb sends condition checks, then puts, then updates, each
kind in the order added), so a failed condition maps to what it was about (a slot, the
appointment, a lookup, ...).
Cancellations caused only by another transaction touching the same items at the same moment
(TransactionConflict) are tried again after a short random pause.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from bookbay.models.table import BaseItem

TRANSACTION_ATTEMPTS = 4
BACKOFF_SECONDS = (0.02, 0.05, 0.1)


class LabelledTransaction:
    """A pynamodb TransactWrite that remembers what each item is, in DynamoDB's order."""

    def __init__(self, tx: TransactWrite, labels: list[str]) -> None:
        self.tx = tx
        self._labels = labels  # filled in DynamoDB's order as items are added
        self._checks = 0
        self._puts = 0

    def check(
        self,
        model: type[BaseItem],
        hash_key: str,
        range_key: str,
        condition: Any,
        label: str,
        *,
        return_item: bool = False,
    ) -> None:
        """A condition on an item the transaction does not write (it fails the whole transaction).
        With ``return_item``, a failed check hands back the item as it is (``write_transaction``'s
        ``returned``), so the caller need not read it again."""
        if not return_item:
            self.tx.condition_check(model, hash_key, range_key, condition=condition)
        else:
            # pynamodb's condition_check has no return-values option; its kwargs are the same.
            kwargs = model.get_operation_kwargs_from_class(hash_key, range_key, condition=condition)
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            self.tx._condition_check_items.append(kwargs)
        self._labels.insert(self._checks, label)  # condition checks come first
        self._checks += 1

    def save(self, item: BaseItem, condition: Any, label: str) -> None:
        self.tx.save(item, condition=condition)
        self._labels.insert(self._checks + self._puts, label)  # puts come before every update
        self._puts += 1

    def update(self, item: BaseItem, actions: list[Any], label: str, condition: Any = None) -> None:
        self.tx.update(item, actions=actions, condition=condition)
        self._labels.append(label)

    def updated(self, count: int, label: str) -> None:
        """``count`` updates were added to ``tx`` directly (e.g. by ``hold_slots``)."""
        self._labels.extend([label] * count)


class Refused(Exception):
    """A transaction refused, by the labels of its failed conditions (none: it kept colliding).
    Pass it as ``write_transaction``'s ``failure`` and catch it to tell the outcomes apart."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)))
        self.failed = failed


# A failed condition's label and the item DynamoDB handed back (checks added with ``return_item``).
ReturnedItem = tuple[str, dict[str, Any]]


def cancellation_reasons(
    exc: TransactWriteError, labels: list[str]
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(cancellation code, label, item handed back) for each item that caused the cancellation."""
    if exc.cause_response_code != "TransactionCanceledException":
        return []
    return [
        (reason.code, label, reason.raw_item)
        for reason, label in zip(exc.cancellation_reasons or [], labels, strict=False)
        if reason is not None and reason.code not in (None, "None")
    ]


def write_transaction(
    build: Callable[[LabelledTransaction], None],
    failure: Callable[[set[str]], Exception],
    *,
    attempts: int = TRANSACTION_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    returned: list[ReturnedItem] | None = None,
) -> None:
    """Write the items ``build`` adds, in one transaction.

    A failed condition raises ``failure(labels of the failed items)``, after adding to
    ``returned`` the items its failed ``return_item`` checks handed back; collisions that persist
    through ``attempts`` raise ``failure(set())``; anything else is raised as it came.
    """
    for attempt in range(attempts):
        labels: list[str] = []
        try:
            # A fresh token per attempt: botocore's own retries of one attempt stay idempotent.
            connection = BaseItem._get_connection().connection
            with TransactWrite(connection=connection, client_request_token=secrets.token_hex(16)) as tx:
                build(LabelledTransaction(tx, labels))
        except TransactWriteError as exc:
            reasons = cancellation_reasons(exc, labels)
            failed = {label for code, label, _ in reasons if code == "ConditionalCheckFailed"}
            if failed:
                if returned is not None:
                    returned.extend(
                        (label, item)
                        for code, label, item in reasons
                        if code == "ConditionalCheckFailed" and item
                    )
                raise failure(failed) from exc
            if not reasons or any(code != "TransactionConflict" for code, _, _ in reasons):
                raise
            if attempt == attempts - 1:
                raise failure(set()) from exc
            sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)] * (0.5 + random.random()))
            continue
        return
