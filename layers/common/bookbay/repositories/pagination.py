"""Cursor pagination of admin lists: a page of items and an opaque ``next_cursor``.

A cursor is the key of the last item of a page (table keys and the index keys the list queries)
as URL-safe base64 of compact JSON. Decoding checks its exact shape and lets the list check its
values, so a cursor can neither reach into another list nor carry an over-long key (which
DynamoDB would refuse with a ValidationException, a 5xx instead of a 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from bookbay.exceptions import InvalidCursor
from bookbay.models.table import BaseItem

MAX_CURSOR_CHARS = 1024
MAX_KEY_VALUE_CHARS = 300
# The key of an item a GSI3 query lists: its table keys and its GSI3 keys.
GSI3_CURSOR_KEYS = frozenset({"PK", "SK", "GSI3PK", "GSI3SK"})
_T = TypeVar("_T")


def encode_cursor(key: dict[str, str]) -> str:
    """The cursor of a page ending at the item with these key attributes (name -> string value)."""
    text = json.dumps(
        {name: {"S": value} for name, value in key.items()}, separators=(",", ":"), sort_keys=True
    )
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(
    cursor: str, attributes: frozenset[str], valid: Callable[[dict[str, str]], bool]
) -> dict[str, dict[str, str]]:
    """The ``last_evaluated_key`` a cursor carries: exactly ``attributes``, string values that
    ``valid`` accepts (the list's own partition, well-formed ids); InvalidCursor for anything else."""
    invalid = InvalidCursor("The cursor is not valid here. Use the next_cursor of the previous page.")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(key, dict) or set(key) != attributes:
        raise invalid
    plain: dict[str, str] = {}
    for name, value in key.items():
        if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
            raise invalid
        if not 0 < len(value["S"]) <= MAX_KEY_VALUE_CHARS:
            raise invalid
        plain[name] = value["S"]
    if not valid(plain):
        raise invalid
    return {name: {"S": value} for name, value in plain.items()}


def gsi3_key(item: BaseItem) -> dict[str, str]:
    """The cursor key (GSI3_CURSOR_KEYS) of an item a GSI3 query listed."""
    return {"PK": item.pk, "SK": item.sk, "GSI3PK": item.gsi3pk or "", "GSI3SK": item.gsi3sk or ""}


def take(
    items: Iterable[_T], limit: int, keep: Callable[[_T], bool], key_of: Callable[[_T], dict[str, str]]
) -> tuple[list[_T], str | None]:
    """Up to ``limit`` items that ``keep`` accepts, and the cursor after the last one (None when
    the items ran out). ``items`` is a lazy query: it is read only as far as needed."""
    page: list[_T] = []
    iterator: Iterator[_T] = iter(items)
    for item in iterator:
        if not keep(item):
            continue
        page.append(item)
        if len(page) == limit:
            break
    else:
        return page, None
    # A full page: there may be more (an extra empty page at the very end is harmless).
    return page, encode_cursor(key_of(page[-1]))
