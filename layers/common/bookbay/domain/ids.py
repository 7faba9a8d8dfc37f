"""Identifiers and link tokens."""

from __future__ import annotations

import hashlib
import secrets
import time


def new_id() -> str:
    """A time-sortable, unguessable id: 12 hex digits of milliseconds + 12 random hex digits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(6)}"


def new_link_token() -> tuple[str, str]:
    """A link token (192 bits from the CSPRNG, URL-safe) and the hash under which it is stored."""
    raw = secrets.token_urlsafe(24)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def stable_id(*parts: str) -> str:
    """A deterministic id for a record derived from its normalized identity (vehicle, address)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
