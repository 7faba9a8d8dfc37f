"""Staff block time at a location: availability and every booking (online, by staff, a
reschedule) then see only the free time around it. Appointments already in the blocked time stay
where they are; staff are told which they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbay.domain.audit import Actor
from bookbay.domain.availability import zone_of
from bookbay.domain.blocks import Block, block_id, blocked_slots, check_range, parse_block_id
from bookbay.domain.ids import new_id
from bookbay.exceptions import LocationNotFound, NotFound, ValidationFailed
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.blocks import BlockedAppointment, BlockPage, BlocksRepository, StoredBlock
from bookbay.repositories.catalog import CatalogRepository


@dataclass(frozen=True)
class BlocksDeps:
    """What the staff blocked-time routes read and write: the catalog (locations and their opening
    hours) and the blocks."""

    catalog: CatalogRepository
    blocks: BlocksRepository


@dataclass(frozen=True)
class BlockCreated:
    block: Block
    slots: int  # slots it marked
    appointments: list[BlockedAppointment]  # appointments holding time inside it (they stay)


def create_block(
    catalog: CatalogRepository,
    repo: BlocksRepository,
    *,
    location_id: str,
    start: datetime,
    end: datetime,
    reason: str | None,
    actor: Actor,
    now: datetime,
) -> BlockCreated:
    """Block [start, end) at the location: every slot that overlaps it is taken out of booking.

    LocationNotFound (404) for an unknown location; ValidationFailed (422) for a range that ends
    before it starts, is longer than MAX_BLOCK_DAYS, is past, or holds no opening hours.
    """
    shop = catalog.catalog()
    location = shop.location(location_id)
    if location is None:
        raise LocationNotFound(f"There is no location {location_id!r}.")
    check_range(start, end, now)
    slots = blocked_slots(location, shop.shop.settings, start, end)
    if not slots:
        raise ValidationFailed(
            f"{location.name} has no opening hours in that time: there is nothing to block.",
            details=[{"field": "body.start", "message": "no bookable time between start and end"}],
        )
    zone = zone_of(location)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    block = Block(
        id=block_id(location_id, local_start, new_id()),
        location_id=location_id,
        start=local_start,
        end=local_end,
        reason=" ".join(reason.split()) if reason else None,
        created_at=now,
        created_by=actor,
    )
    entry = audit.entry(
        actor,
        "block.create",
        now,
        note=f"block {block.id}: {local_start.isoformat()} to {local_end.isoformat()}",
    )
    repo.create(block, slots, entry)
    during = repo.appointments_during(location_id, local_start, local_end)
    logger.info(
        "time blocked",
        extra={"location_id": location_id, "slots": len(slots), "appointments_inside": len(during)},
    )
    return BlockCreated(block, len(slots), during)


def delete_block(repo: BlocksRepository, block_ref: str, *, actor: Actor, now: datetime) -> StoredBlock:
    """Give the block's time back: its slots are unblocked unless another block covers them too.
    NotFound (404) for an unknown or malformed id."""
    ref = parse_block_id(block_ref)
    if ref is None:
        raise NotFound("No block with this id.")
    entry = audit.entry(actor, "block.delete", now, note=f"block {block_ref}")
    deleted = repo.delete(ref, entry)
    if deleted is None:
        raise NotFound("No block with this id.")
    logger.info("block deleted", extra={"location_id": ref.location_id, "slots": len(deleted.slots)})
    return deleted


def list_blocks(
    catalog: CatalogRepository, repo: BlocksRepository, location_id: str, *, limit: int, cursor: str | None
) -> BlockPage:
    if catalog.catalog().location(location_id) is None:
        raise LocationNotFound(f"There is no location {location_id!r}.")
    return repo.page(location_id, limit=limit, cursor=cursor)
