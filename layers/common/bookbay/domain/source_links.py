"""Known-source links: what one is, how long it lasts, and how many wrong identity checks it takes.

A link carries an opaque source token (192 bits from the CSPRNG; only its SHA-256 is stored). Its
customer books after entering ONE identifying item (phone or e-mail) that is on their profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bookbay.exceptions import ValidationFailed
from bookbay.types import SLUG_PATTERN

DEFAULT_VALIDITY_DAYS = 180
MAX_VALIDITY_DAYS = 730
MAX_FAILURES = 5  # wrong identity checks before the link locks (the right item is then refused too)
MAX_CAMPAIGN_LENGTH = 40
LINK_PATH = "/book?src="

_CAMPAIGN = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class SourceLink:
    token_hash: str
    customer_id: str
    vehicle_id: str | None
    campaign: str | None
    created_at: datetime
    expires_at: datetime
    failures: int = 0

    @property
    def locked(self) -> bool:
        return self.failures >= MAX_FAILURES


def check_campaign(campaign: str | None) -> None:
    """A campaign is a short slug (lower-case letters, digits, dashes), or absent."""
    if campaign is not None and (len(campaign) > MAX_CAMPAIGN_LENGTH or not _CAMPAIGN.match(campaign)):
        raise ValidationFailed(
            "A campaign is a short slug: lower-case letters, digits and dashes.",
            details=[
                {
                    "field": "body.campaign",
                    "message": f"lower-case letters, digits and dashes, at most {MAX_CAMPAIGN_LENGTH}",
                }
            ],
        )


def check_validity_days(days: int) -> None:
    if not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ValidationFailed(
            f"A link is valid for 1 to {MAX_VALIDITY_DAYS} days.",
            details=[{"field": "body.days", "message": f"between 1 and {MAX_VALIDITY_DAYS}"}],
        )
