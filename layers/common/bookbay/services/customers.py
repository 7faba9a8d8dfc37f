"""Staff and ops changes to a customer record (ops/customers.py and the admin customer routes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bookbay.domain.audit import Actor
from bookbay.exceptions import StaleWrite
from bookbay.observability import logger
from bookbay.repositories.customers import CustomersRepository, DoNotServiceSet

WRITE_ATTEMPTS = 3
_T = TypeVar("_T")


def retrying(write: Callable[[], _T]) -> _T:
    """Run a read-modify-write; a StaleWrite (someone changed the record between the read and the
    write) runs it again from a fresh read, a few times, then is raised (409)."""
    attempt = 1
    while True:
        try:
            return write()
        except StaleWrite:
            if attempt >= WRITE_ATTEMPTS:
                raise
            attempt += 1


def set_do_not_service(
    repo: CustomersRepository, customer_id: str, flag: bool, *, actor: Actor | None = None
) -> DoNotServiceSet:
    """Mark (or unmark) a customer Do Not Service: the profile and every phone / e-mail lookup item
    (which the booking reads) change together, with an audit entry of who did it (``actor``; ops
    by default). NotFound for an unknown customer; a write that keeps colliding with other changes
    raises StaleWrite (409) after a few fresh tries."""
    if actor is None:
        result = retrying(lambda: repo.set_do_not_service(customer_id, flag))
    else:
        result = retrying(lambda: repo.set_do_not_service(customer_id, flag, actor=actor))
    logger.info(
        "do not service set",
        extra={"customer_id": customer_id, "do_not_service": flag, "lookups": result.lookups_updated},
    )
    return result
