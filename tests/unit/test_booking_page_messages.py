"""The booking page has its own words for every error code the public API can answer.

Every domain exception's code (``bookbay.exceptions``) must have a ``case "<code>":`` in the page
script's ``messageFor``, unless it is listed below with the reason the page never sees it. A new
error code fails this test until someone decides what the customer reads (the page would
otherwise fall back to the API's own message, written for developers as much as for customers).
"""

from __future__ import annotations

import inspect
import re

from bookbay import exceptions
from bookbay.templates import TEMPLATE_DIR

# Codes the booking page cannot meet, and why.
NOT_ON_THE_PAGE = {
    "domain_error": "the base class; never raised",
    "not_found": "a base class; the page asks for known routes and named ids only",
    "gone": "a base class; the 410s the page meets are code_expired",
    "invalid_input": "a base class; the public routes raise its named subclasses",
    "conflict": "a base class (and a booking's internal retry, never answered)",
    "forbidden": "a base class; the public 403s are booking_not_available / identity_mismatch",
    "unauthorized": "a base class; the public 401s are verification_required / invalid_verification_token",
    "concurrent_update": "staff writes only (settings, customers, flags)",
    "contact_in_use": "staff customer edits only",
    "field_not_flagged": "staff flag routes only",
    "flag_not_found": "staff flag routes only",
    "invalid_cursor": "staff lists only",
    "invalid_transition": "staff appointment actions only",
    "owner_required": "staff settings only",
    "link_inactive": "the /c/, /s/ and /r/ link pages (HTML), not the API",
    "link_not_found": "the /c/, /s/ and /r/ link pages (HTML), not the API",
    "sign_in_not_configured": "the admin page only",
    "invalid_shop_file": "ops/load_shop.py only",
}


def domain_codes() -> set[str]:
    return {
        cls.code
        for _, cls in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(cls, exceptions.DomainError)
    }


def page_cases() -> set[str]:
    script = (TEMPLATE_DIR / "book" / "book.js").read_text(encoding="utf-8")
    body = script.split("function messageFor(error) {", 1)[1].split("\n}\n", 1)[0]
    return set(re.findall(r'case "([a-z_]+)":', body))


def test_every_public_error_code_has_the_pages_own_words() -> None:
    missing = domain_codes() - set(NOT_ON_THE_PAGE) - page_cases()
    assert missing == set(), f"book.js messageFor has no message for {sorted(missing)}"


def test_the_exemptions_are_real_codes() -> None:
    assert set(NOT_ON_THE_PAGE) <= domain_codes()
    assert not set(NOT_ON_THE_PAGE) & page_cases()
