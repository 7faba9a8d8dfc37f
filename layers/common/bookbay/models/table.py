"""The domain table's storage schema: keys, indexes, TTL and the entity discriminator.

The template's ``BookbayTable`` declares the same; tests/infrastructure checks they agree, and
the local stack creates its table from the template.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import DiscriminatorAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

# The outbox sender reads new images from the stream; old images show what a change replaced.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


class GSI1(GlobalSecondaryIndex["BaseItem"]):
    """Appointments by location and local day/time."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class GSI2(GlobalSecondaryIndex["BaseItem"]):
    """Appointments (and other children) by customer."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")


class GSI3(GlobalSecondaryIndex["BaseItem"]):
    """Collections for admin lists (by kind and status, sorted)."""

    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(range_key=True, attr_name="GSI3SK")


class BaseItem(Model):
    """Every item of the domain table. ``entity`` says which subclass an item is."""

    class Meta:
        table_name = "unbound"  # set by bind_table() at cold start
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    entity = DiscriminatorAttribute(attr_name="entity")
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    gsi3pk = UnicodeAttribute(null=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(null=True, attr_name="GSI3SK")
    expires_at = TTLAttribute(null=True, attr_name="expires_at")

    gsi1 = GSI1()
    gsi2 = GSI2()
    gsi3 = GSI3()


def bind_table(table_name: str, region: str) -> None:
    """Point every storage model at the stack's table (called once, from a repository)."""
    if BaseItem.Meta.table_name == table_name and BaseItem.Meta.region == region:
        return
    BaseItem.Meta.table_name = table_name
    BaseItem.Meta.region = region
    BaseItem._connection = None


def table_schema() -> dict[str, Any]:
    """Keys, indexes, TTL and stream of the table as the models declare them (for tests)."""
    schema = BaseItem._get_schema()
    return {
        "key_schema": schema["key_schema"],
        "attribute_definitions": schema["attribute_definitions"],
        "global_secondary_indexes": schema.get("global_secondary_indexes", []),
        "ttl_attribute": BaseItem.expires_at.attr_name,
        "stream_view_type": STREAM_VIEW_TYPE,
    }
