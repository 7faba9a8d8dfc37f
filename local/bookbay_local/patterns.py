"""Event filtering as Lambda applies FilterCriteria: EventBridge-style patterns (the usual subset).

A pattern is a mapping; each key must match. A nested mapping matches the event's nested mapping;
a list matches when the event's value (or any element of an event list) matches one of its items:
a literal (equal), or ``{"prefix"}``, ``{"suffix"}``, ``{"equals-ignore-case"}``,
``{"anything-but": x | [..]}``, ``{"exists": bool}``, ``{"numeric": [op, n, ...]}``.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

_MISSING: Final = object()
_NUMERIC: Final[Mapping[str, Callable[[float, float], bool]]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


class PatternError(ValueError):
    """A filter pattern the local stack does not understand."""


def parse_filters(filter_criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a FilterCriteria (``{"Filters": [{"Pattern": "<json>"}]}``)."""
    patterns: list[dict[str, Any]] = []
    for item in (filter_criteria or {}).get("Filters", []):
        raw = item.get("Pattern")
        pattern = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(pattern, dict):
            raise PatternError(f"a filter pattern must be a JSON object: {raw!r}")
        patterns.append(pattern)
    return patterns


def matches_any(patterns: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """Lambda keeps a record when any filter matches (or when there are no filters)."""
    return not patterns or any(matches(pattern, event) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    for key, expected in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(expected, Mapping):
            if value is _MISSING or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _matches_list(expected, value):
                return False
        else:
            raise PatternError(f"pattern values must be objects or arrays, not {expected!r} (at {key!r})")
    return True


def _matches_list(expected: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in expected:
        if isinstance(rule, Mapping) and "exists" in rule:
            if bool(rule["exists"]) == (value is not _MISSING):
                return True
            continue
        if value is _MISSING:
            continue
        if any(_matches_value(rule, item) for item in values):
            return True
    return False


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return bool(rule == value) and isinstance(rule, bool) == isinstance(value, bool)
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(str(rule["prefix"]))
    if "suffix" in rule:
        return isinstance(value, str) and value.endswith(str(rule["suffix"]))
    if "equals-ignore-case" in rule:
        return isinstance(value, str) and value.lower() == str(rule["equals-ignore-case"]).lower()
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        if isinstance(excluded, Mapping):
            return not _matches_value(excluded, value)
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    if "numeric" in rule:
        return _numeric(rule["numeric"], value)
    raise PatternError(f"unsupported filter rule {dict(rule)!r}")


def _numeric(conditions: list[Any], value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if isinstance(value, bool):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC[str(op)](number, float(limit)) for op, limit in pairs)
