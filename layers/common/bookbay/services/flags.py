"""Staff use cases of the flagged-customer list (the admin flag routes): create, list, read,
un-flag one field, delete. Each change is audited in the transaction that makes it.

The booking side (matching a new appointment) is in ``services.booking`` with ``domain.flags``:
this module only keeps the list and the value items it is matched by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bookbay.domain.addresses import checked_address
from bookbay.domain.audit import Actor, FieldChange
from bookbay.domain.catalog import Address
from bookbay.domain.flags import Flag, FlagField, is_flag_id
from bookbay.domain.ids import new_id
from bookbay.exceptions import FlagNotFound, StaleWrite
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.flags import FlagPage, FlagsRepository, StoredFlag

WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class NewFlag:
    """What staff give (validated by the API schema: ``email`` and ``phone`` normalized)."""

    reason: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None


def create_flag(
    repo: FlagsRepository,
    new: NewFlag,
    *,
    actor: Actor,
    now: datetime,
    new_flag_id: Callable[[], str] = new_id,
) -> Flag:
    """Flag a customer. The address must be a US street address (ValidationFailed, 422, naming
    the field, as in a booking): it matches by the canonical form a booking computes. Several
    flags may hold the same value; each matches on it."""
    flag = Flag(
        id=new_flag_id(),
        name=new.name,
        email=new.email,
        phone=new.phone,
        address=new.address,
        address_canonical=checked_address(new.address) if new.address is not None else None,
        reason=new.reason,
        created_at=now,
        created_by=actor,
    )
    given: dict[str, object] = {name: _shown(flag, name) for name in flag.held_fields}
    changes = {name: FieldChange(after=value) for name, value in {**given, "reason": flag.reason}.items()}
    repo.create(flag, audit.entry(actor, "flag.create", now, changes=changes))
    logger.info("flag created", extra={"flag_id": flag.id, "fields": flag.held_fields})
    return flag


def get_flag(repo: FlagsRepository, flag_id: str) -> Flag:
    return _stored(repo, flag_id).flag


def list_flags(repo: FlagsRepository, *, limit: int, cursor: str | None) -> FlagPage:
    """A page of the list, newest first (active and inactive flags alike)."""
    return repo.list(limit=limit, cursor=cursor)


def unflag_field(
    repo: FlagsRepository, flag_id: str, field: FlagField, *, actor: Actor, now: datetime
) -> Flag:
    """Stop ``field`` of the flag from matching from now on (appointments that matched keep their
    matches). The flag keeps its other fields; with none left it stays listed, inactive, until
    deleted. FieldNotFlagged (409) when the flag does not hold the field or it is already off."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        stored = _stored(repo, flag_id)
        after = stored.flag.unflag(field, at=now, by=actor)
        key = stored.flag.key(field)
        if key is None:  # pragma: no cover - unflag() refused a field the flag does not hold
            raise AssertionError(field)
        entry = audit.entry(
            actor,
            "flag.unflag_field",
            now,
            changes={
                "active_fields": FieldChange(before=stored.flag.active_fields, after=after.active_fields)
            },
            note=field,
        )
        try:
            repo.unflag(stored, after, key, entry)
        except StaleWrite:
            if attempt == WRITE_ATTEMPTS:
                raise
            continue
        logger.info(
            "flag field un-flagged", extra={"flag_id": flag_id, "field": field, "active": after.active}
        )
        return after
    raise AssertionError("unreachable")  # pragma: no cover


def delete_flag(repo: FlagsRepository, flag_id: str, *, actor: Actor, now: datetime) -> None:
    """Remove the flag from the list and from matching; its audit history stays (who flagged,
    who deleted), appointments keep the matches they had."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        stored = _stored(repo, flag_id)
        entry = audit.entry(
            actor,
            "flag.delete",
            now,
            changes={"active_fields": FieldChange(before=stored.flag.active_fields, after=[])},
        )
        try:
            repo.delete(stored, entry)
        except StaleWrite:
            if attempt == WRITE_ATTEMPTS:
                raise
            continue
        logger.info("flag deleted", extra={"flag_id": flag_id})
        return


def _stored(repo: FlagsRepository, flag_id: str) -> StoredFlag:
    stored = repo.get(flag_id) if is_flag_id(flag_id) else None
    if stored is None:
        raise FlagNotFound("There is no flag with this id.")
    return stored


def _shown(flag: Flag, name: FlagField) -> object:
    """A field's value for the audit trail (the address as given)."""
    if name == "address":
        return flag.address.model_dump(mode="json") if flag.address else None
    return {"name": flag.name, "email": flag.email, "phone": flag.phone}[name]
