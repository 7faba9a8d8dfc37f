"""Seed the stack with a shop file (the demo shop by default), as the ops loader would."""

from __future__ import annotations

from pathlib import Path

from bookbay.repositories.catalog import CatalogRepository
from bookbay.shopfile import read_shop_file


def seed_shop(shop_file: Path, table_name: str, region: str, *, public_base_url: str) -> str:
    """Load ``shop_file`` into the table; links in messages point at the local gateway unless the
    file sets ``public_base_url``. Raises ``bookbay.exceptions.ShopFileError`` for a bad file."""
    catalog = read_shop_file(shop_file)
    if catalog.shop.settings.public_base_url is None:
        settings = catalog.shop.settings.model_copy(update={"public_base_url": public_base_url})
        catalog = catalog.model_copy(update={"shop": catalog.shop.model_copy(update={"settings": settings})})
    CatalogRepository(table_name, region).upsert(catalog)
    return (
        f"shop {catalog.shop.id!r} ({catalog.shop.name}): {len(catalog.locations)} locations, "
        f"{len(catalog.services)} services"
    )
