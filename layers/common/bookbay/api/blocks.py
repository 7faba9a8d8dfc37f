"""Request and response bodies of the blocked-time routes (staff API)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from bookbay.domain.blocks import MAX_BLOCK_AHEAD_DAYS, MAX_BLOCK_DAYS, Block
from bookbay.modeling import BaseModel
from bookbay.repositories.blocks import BlockedAppointment, StoredBlock
from bookbay.types import MULTI_LINE, LocationId


class BlockCreate(BaseModel):
    """POST /v1/admin/blocks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: LocationId
    start: AwareDatetime = Field(
        description="With its UTC offset, e.g. 2026-11-25T12:00:00-06:00; at most "
        f"{MAX_BLOCK_AHEAD_DAYS} days ahead"
    )
    end: AwareDatetime = Field(description=f"After start, at most {MAX_BLOCK_DAYS} days later")
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), MULTI_LINE]
        | None
    ) = Field(default=None, description="For staff, e.g. 'Lift 2 in maintenance'")


class BlockOut(BaseModel):
    id: str = Field(description="Use with DELETE /v1/admin/blocks/{id}")
    location_id: str
    start: AwareDatetime = Field(description="In the location's time zone")
    end: AwareDatetime
    reason: str | None
    created_at: AwareDatetime
    created_by: str | None = Field(description="The staff member's e-mail (or id)")
    status: str | None = Field(
        default=None, description="active; applying / removing while a long block is being written"
    )
    slots: int | None = Field(default=None, description="Slots it takes out of booking")

    @classmethod
    def of(cls, block: Block, *, status: str | None = None, slots: int | None = None) -> BlockOut:
        return cls(
            id=block.id,
            location_id=block.location_id,
            start=block.start,
            end=block.end,
            reason=block.reason,
            created_at=block.created_at,
            created_by=block.created_by.email or block.created_by.sub,
            status=status,
            slots=slots,
        )

    @classmethod
    def of_stored(cls, stored: StoredBlock) -> BlockOut:
        return cls.of(stored.block, status=stored.status, slots=len(stored.slots))


class AppointmentInBlock(BaseModel):
    id: str
    status: str
    start: AwareDatetime
    end: AwareDatetime
    service_id: str
    customer_name: str

    @classmethod
    def of(cls, appointment: BlockedAppointment) -> AppointmentInBlock:
        return cls(
            id=appointment.id,
            status=appointment.status,
            start=appointment.start,
            end=appointment.end,
            service_id=appointment.service_id,
            customer_name=appointment.contact.full_name,
        )


class BlockCreated(BaseModel):
    block: BlockOut
    appointments_in_block: list[AppointmentInBlock] = Field(
        description="Appointments already holding time inside the block: they stay booked"
    )
    warning: str | None = Field(description="Set when there are such appointments")


class BlockResponse(BaseModel):
    block: BlockOut


class BlocksResponse(BaseModel):
    blocks: list[BlockOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")
