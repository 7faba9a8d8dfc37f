"""Shop settings use cases (staff): read them, change them (owner-only fields need the owner
group), and the audit trail of every change.

A change is written with its audit entry (who, and each changed field's value before and after)
in one DynamoDB transaction, conditional on the version read: there is never a change without
its entry, nor an entry for a change that did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bookbay.domain.audit import Actor, diff
from bookbay.domain.catalog import ShopSettings
from bookbay.exceptions import OwnerRequired, StaleWrite, ValidationFailed
from bookbay.repositories import audit

if TYPE_CHECKING:
    from bookbay.repositories.audit import AuditPage, AuditRepository
    from bookbay.repositories.catalog import CatalogRepository

ACTION = "settings.change"

# Settings only a member of the owner group may change: where the shop's mail goes and its
# addresses, and what protects customers and the shop (verification, SMS countries and spend
# caps, takeover). review_requests holds an outside URL the review e-mails send customers to.
# Names, not fields of ShopSettings: a name ShopSettings does not (yet) have is harmless here.
OWNER_ONLY: frozenset[str] = frozenset(
    {
        "notification_route",
        "hq_email",
        "require_verification",
        "verification_channels",
        "sms_countries",
        "takeover_enabled",
        "review_requests",
        "sms_sends_per_hour",
        "sms_sends_per_day",
    }
)

# What is no longer a setting, and what it is now.
DEPLOY_TIME: dict[str, str] = {
    "public_base_url": "a deploy-time parameter (PublicBaseUrl): links are built from the stack's "
    "configured URL only, never from a setting",
}


@dataclass(frozen=True)
class SettingsDeps:
    """The staff settings API: the catalog (which holds the settings) and the audit trail."""

    catalog: CatalogRepository
    audit: AuditRepository


@dataclass(frozen=True)
class SettingsChanged:
    settings: ShopSettings
    version: int
    changed: frozenset[str]  # the fields whose value changed (none: nothing was written)

    @property
    def owner_only(self) -> frozenset[str]:
        return self.changed & OWNER_ONLY


def read_settings(repo: CatalogRepository) -> tuple[ShopSettings, int]:
    catalog, version = repo.catalog_and_version()
    return catalog.shop.settings, version


def update_settings(
    deps: SettingsDeps,
    changes: dict[str, Any],
    *,
    version: int | None,
    actor: Actor,
    owner: bool,
    now: datetime,
) -> SettingsChanged:
    """Apply ``changes`` to the settings, validated as a whole, guarded by ``version``, written
    with its audit entry. ``owner``: the actor is in the owner group (else naming any OWNER_ONLY
    field is OwnerRequired, before anything else is looked at). A change that changes no value
    writes nothing."""
    retired = sorted(set(changes) & set(DEPLOY_TIME))
    if retired:
        raise ValidationFailed(
            f"{', '.join(retired)} is not a setting any more.",
            details=[{"field": f"changes.{name}", "message": DEPLOY_TIME[name]} for name in retired],
        )
    reserved = sorted(set(changes) & OWNER_ONLY)
    if reserved and not owner:
        raise OwnerRequired(
            f"Only a member of the owner group may change {', '.join(reserved)}.",
            details=[
                {"field": f"changes.{name}", "message": "only the owner group may change it"}
                for name in reserved
            ],
        )
    catalog, current_version = deps.catalog.catalog_and_version()
    current = catalog.shop.settings
    if version is not None and version != current_version:
        raise StaleWrite("The settings changed since you read them; read them again.")
    before = current.model_dump(mode="json")
    try:
        updated = ShopSettings.model_validate({**before, **changes})
    except ValidationError as exc:
        raise ValidationFailed(
            "The settings are not valid.",
            details=[
                {
                    "field": ".".join(["changes", *(str(p) for p in err["loc"])]),
                    "message": err["msg"],
                }
                for err in exc.errors()
            ],
        ) from exc
    changed = diff(before, updated.model_dump(mode="json"))
    if not changed:
        return SettingsChanged(current, current_version, frozenset())
    entry = audit.entry(actor, ACTION, now, changes=changed)
    new_version = deps.catalog.save_settings(
        catalog.shop, updated, expected_version=current_version, entry=entry
    )
    return SettingsChanged(updated, new_version, frozenset(changed))


def history(deps: SettingsDeps, *, limit: int, cursor: str | None) -> AuditPage:
    """A page of the settings' audit trail, newest first; InvalidCursor for a cursor that is not
    a previous page's ``next_cursor``."""
    return deps.audit.settings_history(limit=limit, cursor=cursor)
