"""Print the appointment lifecycle table (``bookbay.domain.lifecycle.LIFECYCLE``) as Markdown.

    .venv/bin/python scripts/lifecycle_table.py

One row per action: the states it may start from, the state it leads to, who may take it, when,
and the effects it causes (written in the change's own transaction). The README's table is this
output; a unit test fails when they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "common") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers" / "common"))

from bookbay.domain.lifecycle import LIFECYCLE, NEW, Rule  # noqa: E402

STATE_ORDER = (
    "new",
    "requested",
    "reschedule_requested",
    "confirmed",
    "checked_in",
    "completed",
    "cancelled",
    "no_show",
)
TIMING = {"any": "any time", "before_start": "before the start", "after_start": "once the start has come"}


def states(names: frozenset[str]) -> str:
    ordered = sorted(names, key=lambda s: STATE_ORDER.index(s) if s in STATE_ORDER else len(STATE_ORDER))
    return "any" if set(names) >= set(STATE_ORDER) - {NEW} else ", ".join(ordered)


def row(rule: Rule) -> str:
    cells = (
        f"`{rule.action}`",
        states(rule.from_states),
        rule.to_state or "(unchanged)",
        ", ".join(sorted(rule.by)),
        TIMING[rule.timing],
        ", ".join(rule.effects) or "-",
    )
    return "| " + " | ".join(cells) + " |"


def table() -> str:
    head = "| action | from | to | by | when | effects |\n| --- | --- | --- | --- | --- | --- |"
    return "\n".join([head, *(row(rule) for rule in LIFECYCLE)])


if __name__ == "__main__":
    print(table())
