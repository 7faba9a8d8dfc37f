"""Key builders for the single domain table: every key shape is spelled here, once."""

from __future__ import annotations

SHOP_PK = "SHOP"
SHOP_SK = "SHOP"


def location_sk(location_id: str) -> str:
    return f"LOCATION#{location_id}"


def service_sk(service_id: str) -> str:
    return f"SERVICE#{service_id}"


LOCATION_PREFIX = "LOCATION#"
SERVICE_PREFIX = "SERVICE#"


def outbox_pk(message_id: str) -> str:
    return f"OUTBOX#{message_id}"


OUTBOX_SK = "OUTBOX"


def outbox_retry_schedule(message_id: str, attempt: int) -> str:
    """Name of the one-time schedule that retries a message (<= 64 chars)."""
    return f"outbox-retry-{message_id}-{attempt}"[:64]
