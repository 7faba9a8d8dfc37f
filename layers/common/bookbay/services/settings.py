"""Shop settings use cases (staff)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bookbay.domain.catalog import ShopSettings
from bookbay.exceptions import StaleWrite, ValidationFailed
from bookbay.repositories.catalog import CatalogRepository


def read_settings(repo: CatalogRepository) -> tuple[ShopSettings, int]:
    catalog, version = repo.catalog_and_version()
    return catalog.shop.settings, version


def update_settings(
    repo: CatalogRepository, changes: dict[str, Any], *, version: int | None
) -> tuple[ShopSettings, int]:
    """Apply ``changes`` to the settings, validated as a whole, guarded by ``version``."""
    catalog, current_version = repo.catalog_and_version()
    current = catalog.shop.settings
    if version is not None and version != current_version:
        raise StaleWrite("The settings changed since you read them; read them again.")
    try:
        updated = ShopSettings.model_validate({**current.model_dump(mode="json"), **changes})
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
    new_version = repo.save_settings(catalog.shop, updated, expected_version=current_version)
    return updated, new_version
