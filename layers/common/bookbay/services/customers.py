"""Staff and ops changes to a customer record (the admin customer routes will call these)."""

from __future__ import annotations

from bookbay.exceptions import StaleWrite
from bookbay.observability import logger
from bookbay.repositories.customers import CustomersRepository, DoNotServiceSet

WRITE_ATTEMPTS = 3


def set_do_not_service(repo: CustomersRepository, customer_id: str, flag: bool) -> DoNotServiceSet:
    """Mark (or unmark) a customer Do Not Service: the profile and every phone / e-mail lookup item
    (which the booking reads) change together. NotFound for an unknown customer; a write that keeps
    colliding with other changes raises StaleWrite (409) after a few fresh tries."""
    attempt = 1
    while True:
        try:
            result = repo.set_do_not_service(customer_id, flag)
            break
        except StaleWrite:
            if attempt >= WRITE_ATTEMPTS:
                raise
            attempt += 1
    logger.info(
        "do not service set",
        extra={"customer_id": customer_id, "do_not_service": flag, "lookups": result.lookups_updated},
    )
    return result
