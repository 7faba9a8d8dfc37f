"""Request and response bodies of the flagged-customer routes (staff API)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, field_validator, model_validator

from bookbay.domain.catalog import Address
from bookbay.domain.flags import Flag, FlagField, normalize_name
from bookbay.modeling import BaseModel
from bookbay.types import MULTI_LINE, ONE_LINE, E164Phone, Email

Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    MULTI_LINE,
    Field(description="Why the customer is flagged (staff see it with every match)"),
]


class FlagCreate(BaseModel):
    """POST /v1/admin/flags: at least one of ``name``, ``email``, ``phone``, ``address``, and the
    reason. Each field given matches on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(max_length=121), ONE_LINE] | None = Field(
        default=None,
        description="First and last name; matches whatever the case, accents, punctuation or spacing",
        examples=["Dana Rivera"],
    )
    email: Email | None = None
    phone: E164Phone | None = None
    address: Address | None = Field(
        default=None, description="A US street address, as in a booking; matches however it is typed"
    )
    reason: Reason

    @field_validator("name")
    @classmethod
    def _full_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if len(normalize_name(value).split()) < 2:
            raise ValueError("give the first and the last name")
        return value

    @model_validator(mode="after")
    def _something_to_match(self) -> Self:
        if self.name is None and self.email is None and self.phone is None and self.address is None:
            raise ValueError("give at least one of name, email, phone and address")
        return self


class UnflaggedOut(BaseModel):
    field: FlagField
    at: AwareDatetime
    by: str | None = Field(description="The staff member's e-mail (or id)")


class FlagOut(BaseModel):
    id: str
    name: str | None
    email: str | None
    phone: str | None = Field(description="E.164")
    address: Address | None
    reason: str
    active: bool = Field(description="Some field still matches")
    active_fields: list[FlagField] = Field(description="The fields new appointments are matched on")
    unflagged: list[UnflaggedOut] = Field(description="Fields staff un-flagged: they no longer match")
    created_at: AwareDatetime
    created_by: str | None = Field(description="The staff member's e-mail (or id)")

    @classmethod
    def of(cls, flag: Flag) -> FlagOut:
        return cls(
            id=flag.id,
            name=flag.name,
            email=flag.email,
            phone=flag.phone,
            address=flag.address,
            reason=flag.reason,
            active=flag.active,
            active_fields=flag.active_fields,
            unflagged=[
                UnflaggedOut(field=u.field, at=u.at, by=u.by.email or u.by.sub) for u in flag.unflagged
            ],
            created_at=flag.created_at,
            created_by=flag.created_by.email or flag.created_by.sub,
        )


class FlagResponse(BaseModel):
    flag: FlagOut


class FlagsResponse(BaseModel):
    flags: list[FlagOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")
