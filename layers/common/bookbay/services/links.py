"""Links in messages: customer manage links (/c/<token>) and staff action links (/s/<token>).

Tokens have 192 bits from the CSPRNG and are stored only as their SHA-256 hash, with a TTL.
URLs are built from the stack's configured public base URL, never from a request's Host header.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from bookbay.domain.catalog import ShopSettings
from bookbay.domain.ids import new_link_token
from bookbay.exceptions import ShopNotConfigured
from bookbay.models import keys
from bookbay.models.appointments import LinkTokenItem

LinkKind = Literal["customer", "staff"]
PATHS: dict[LinkKind, str] = {"customer": "/c/", "staff": "/s/"}
# How long a token record is kept after the appointment ends (it stops working earlier: a staff
# link once the appointment is past or cancelled, a customer link at check-in or cancellation).
KEEP_AFTER_END: dict[LinkKind, timedelta] = {"customer": timedelta(days=30), "staff": timedelta(days=1)}


def public_base_url(configured: str, settings: ShopSettings) -> str:
    base = (configured or settings.public_base_url or "").rstrip("/")
    if not base:
        raise ShopNotConfigured(
            "The shop has no public base URL (PublicBaseUrl or settings.public_base_url)."
        )
    return base


def new_link(
    base_url: str, kind: LinkKind, appointment_id: str, appointment_end: datetime
) -> tuple[str, LinkTokenItem]:
    """The URL to put in a message and the token item to write (in the same transaction)."""
    raw, token_hash = new_link_token()
    item = LinkTokenItem(
        keys.token_pk(token_hash),
        keys.TOKEN_SK,
        kind=kind,
        appointment_id=appointment_id,
        expires_at=appointment_end + KEEP_AFTER_END[kind],
    )
    return f"{base_url}{PATHS[kind]}{raw}", item
