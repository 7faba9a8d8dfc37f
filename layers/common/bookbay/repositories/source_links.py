"""Known-source link storage: PK=SOURCE#<sha256 of the token>, SK=SOURCE (the token is never stored).

The attempt limit is a conditional write: an identity check first takes an attempt with an
``ADD failures 1`` conditioned on the link existing, being unexpired and having fewer than the
limit of failures, and gives it back only when the item matched. So concurrent checks can never
test more items than the limit allows, and a check that dies halfway counts as a failure.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from bookbay.domain.source_links import SourceLink
from bookbay.exceptions import Conflict
from bookbay.models import keys
from bookbay.models.source_links import SourceLinkItem
from bookbay.models.table import bind_table


def _condition_failed(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _link(item: SourceLinkItem, token_hash: str) -> SourceLink:
    if item.expires_at is None:  # every link is written with one
        raise ValueError("a source link without expires_at")
    return SourceLink(
        token_hash=token_hash,
        customer_id=item.customer_id,
        vehicle_id=item.vehicle_id,
        campaign=item.campaign,
        created_at=item.created_at,
        expires_at=item.expires_at,
        failures=int(item.failures or 0),
    )


class SourceLinkRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def create(self, link: SourceLink) -> None:
        """Store a new link (a conditional put: a token hash is never reused)."""
        item = SourceLinkItem(
            keys.source_pk(link.token_hash),
            keys.SOURCE_SK,
            customer_id=link.customer_id,
            vehicle_id=link.vehicle_id,
            campaign=link.campaign,
            created_at=link.created_at,
            failures=link.failures,
            expires_at=link.expires_at,
        )
        try:
            item.save(condition=SourceLinkItem.pk.does_not_exist())
        except PutError as error:
            if _condition_failed(error):
                raise Conflict("A link with this token exists already; create another.") from error
            raise

    def get(self, token_hash: str) -> SourceLink | None:
        """The link stored under ``token_hash`` (a consistent read), expired or not; None if absent."""
        try:
            item = SourceLinkItem.get(keys.source_pk(token_hash), keys.SOURCE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _link(item, token_hash)

    def take_attempt(self, token_hash: str, now: datetime, limit: int) -> SourceLink | None:
        """Count one identity check against the link (``failures`` + 1) and return the link with the
        new count; None, counting nothing, when the link is unknown, expired or at ``limit``."""
        item = SourceLinkItem(keys.source_pk(token_hash), keys.SOURCE_SK)
        try:
            item.update(
                actions=[SourceLinkItem.failures.add(1)],
                condition=SourceLinkItem.pk.exists()
                & (SourceLinkItem.expires_at > now)
                & (SourceLinkItem.failures < limit),
            )
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        return _link(item, token_hash)

    def give_back_attempt(self, token_hash: str) -> None:
        """Undo one ``take_attempt`` (the check matched: it was no failure)."""
        item = SourceLinkItem(keys.source_pk(token_hash), keys.SOURCE_SK)
        try:
            item.update(
                actions=[SourceLinkItem.failures.add(-1)],
                condition=SourceLinkItem.pk.exists() & (SourceLinkItem.failures > 0),
            )
        except UpdateError as error:
            if not _condition_failed(error):  # gone meanwhile: nothing to give back
                raise
