"""The catalog (shop, settings, locations, services): one partition, read with one query."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from bookbay.domain.audit import AuditEntry
from bookbay.domain.catalog import Catalog, Location, Service, Shop, ShopSettings
from bookbay.exceptions import ShopNotConfigured, StaleWrite
from bookbay.models import keys
from bookbay.models.catalog import LocationItem, ServiceItem, ShopItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.repositories import audit
from bookbay.repositories.transactions import LabelledTransaction, write_transaction
from bookbay.types import STORED


class CatalogRepository:
    """Reads the catalog in one query and keeps it for ``cache_seconds`` in a warm container."""

    def __init__(
        self,
        table_name: str,
        region: str,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        bind_table(table_name, region)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: tuple[float, Catalog, int] | None = None

    # ------------------------------------------------------------------ reads
    def catalog(self) -> Catalog:
        return self.catalog_and_version()[0]

    def catalog_and_version(self) -> tuple[Catalog, int]:
        """The catalog and the shop record's version (for optimistic locking), in one query."""
        now = self._clock()
        if self._cached and now - self._cached[0] < self._cache_seconds:
            return self._cached[1], self._cached[2]
        shop: Shop | None = None
        version = 0
        locations: list[Location] = []
        services: list[Service] = []
        for item in BaseItem.query(keys.SHOP_PK):
            if isinstance(item, ShopItem):
                shop = Shop.model_validate(_current_shop(item.body), context=STORED)
                version = item.version or 0
            elif isinstance(item, LocationItem):
                locations.append(Location.model_validate(item.body, context=STORED))
            elif isinstance(item, ServiceItem):
                services.append(Service.model_validate(item.body, context=STORED))
        if shop is None:
            raise ShopNotConfigured("No shop is loaded into this stack yet.")
        catalog = Catalog(
            shop=shop,
            locations=sorted(locations, key=lambda loc: loc.name),
            services=sorted(services, key=lambda svc: svc.name),
        )
        self._cached = (now, catalog, version)
        return catalog, version

    # ------------------------------------------------------------------ writes
    def save_settings(
        self, shop: Shop, settings: ShopSettings, *, expected_version: int, entry: AuditEntry | None = None
    ) -> int:
        """Replace ``shop``'s settings if nobody changed the record since ``expected_version``,
        with ``entry`` (who changed what) in the same transaction, under SETTINGS_HISTORY_PK:
        both are written or neither (StaleWrite). The staff API always gives an entry; tests and
        set-ups may leave it out."""
        changed = shop.model_copy(update={"settings": settings})
        item = ShopItem(keys.SHOP_PK, keys.SHOP_SK, body=_dump(changed))
        item.version = expected_version

        def build(tx: LabelledTransaction) -> None:
            tx.save(item, None, "settings")  # the version condition is the item's own
            if entry is not None:
                audit.add_to(tx, keys.SETTINGS_HISTORY_PK, entry)

        write_transaction(build, lambda _: StaleWrite("The settings changed meanwhile; read them again."))
        self._cached = None
        return item.version or 0

    def upsert(self, catalog: Catalog) -> dict[str, list[str]]:
        """Write shop, locations and services (ops loader). Returns what changed, by kind."""
        report: dict[str, list[str]] = {"written": [], "unchanged": [], "not_in_file": []}
        existing: dict[str, BaseItem] = {item.sk: item for item in BaseItem.query(keys.SHOP_PK)}
        wanted: list[BaseItem] = [self._shop_item(catalog.shop, existing.get(keys.SHOP_SK))]
        wanted += [
            LocationItem(keys.SHOP_PK, keys.location_sk(loc.id), body=_dump(loc), name=loc.name)
            for loc in catalog.locations
        ]
        wanted += [
            ServiceItem(keys.SHOP_PK, keys.service_sk(svc.id), body=_dump(svc), name=svc.name)
            for svc in catalog.services
        ]
        for item in wanted:
            before = existing.pop(item.sk, None)
            if before is not None and getattr(before, "body", None) == getattr(item, "body", None):
                report["unchanged"].append(item.sk)
                continue
            try:
                item.save()
            except (PutError, UpdateError) as exc:
                if _conditional_failure(exc):
                    raise StaleWrite("The shop changed while loading; run the loader again.") from exc
                raise
            report["written"].append(item.sk)
        report["not_in_file"] = sorted(existing)
        self._cached = None
        return report

    def delete(self, sort_keys: list[str]) -> None:
        for sk in sort_keys:
            BaseItem(keys.SHOP_PK, sk).delete()
        self._cached = None

    @staticmethod
    def _shop_item(shop: Shop, before: BaseItem | None) -> ShopItem:
        item = ShopItem(keys.SHOP_PK, keys.SHOP_SK, body=_dump(shop))
        if isinstance(before, ShopItem):
            item.version = before.version
        return item


# Settings a stored shop record may still hold from an earlier version, dropped when it is read:
# public_base_url is the stack's PublicBaseUrl parameter now (set at deploy time, not by staff).
RETIRED_SETTINGS = ("public_base_url",)


def _current_shop(body: dict[str, Any]) -> dict[str, Any]:
    """The shop record's body without RETIRED_SETTINGS (the stored item is left as it is; the next
    settings change writes it without them)."""
    settings = body.get("settings")
    if not isinstance(settings, dict) or not any(name in settings for name in RETIRED_SETTINGS):
        return body
    kept = {name: value for name, value in settings.items() if name not in RETIRED_SETTINGS}
    return {**body, "settings": kept}


def _dump(model: Shop | Location | Service) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _conditional_failure(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"
