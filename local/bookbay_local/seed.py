"""Seed the stack with a shop file (the demo shop by default), as the ops loader would."""

from __future__ import annotations

from pathlib import Path

from bookbay.repositories.catalog import CatalogRepository
from bookbay.shopfile import read_shop_file


def seed_shop(shop_file: Path, table_name: str, region: str) -> str:
    """Load ``shop_file`` into the table (links in messages point at the local gateway: the
    functions' PUBLIC_BASE_URL). Raises ``bookbay.exceptions.ShopFileError`` for a bad file."""
    catalog = read_shop_file(shop_file)
    CatalogRepository(table_name, region).upsert(catalog)
    return (
        f"shop {catalog.shop.id!r} ({catalog.shop.name}): {len(catalog.locations)} locations, "
        f"{len(catalog.services)} services"
    )
