"""Catalog items: the shop (with settings), its locations and services. Bodies are JSON documents."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, VersionAttribute

from bookbay.models.table import BaseItem


class ShopItem(BaseItem, discriminator="Shop"):
    body = JSONAttribute()
    version = VersionAttribute()


class LocationItem(BaseItem, discriminator="Location"):
    body = JSONAttribute()
    name = UnicodeAttribute()


class ServiceItem(BaseItem, discriminator="Service"):
    body = JSONAttribute()
    name = UnicodeAttribute()
