"""The audit trail: who changed what, and when (staff actions on appointments, customers, flags).

An entry is written in the same transaction as the change it records (``repositories.audit``), so
there is never a change without its entry, nor an entry for a change that did not happen.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field

from bookbay.modeling import BaseModel

_frozen = ConfigDict(frozen=True, extra="forbid")


class Actor(BaseModel):
    """Who made a change: a staff member (Cognito ``sub`` and e-mail), or the system / customer."""

    model_config = _frozen

    kind: str = Field(default="staff", description="staff | customer | system")
    sub: str | None = None
    email: str | None = None


SYSTEM = Actor(kind="system")
CUSTOMER = Actor(kind="customer")


class FieldChange(BaseModel):
    model_config = _frozen

    before: Any = None
    after: Any = None


class AuditEntry(BaseModel):
    model_config = _frozen

    id: str
    at: AwareDatetime
    actor: Actor
    action: str = Field(description="e.g. confirm, cancel, edit, flag.unflag_field")
    changes: dict[str, FieldChange] = Field(default_factory=dict)
    note: str | None = None


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, FieldChange]:
    """The fields whose value differs between two JSON-able dicts (keys of either)."""
    return {
        name: FieldChange(before=before.get(name), after=after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
