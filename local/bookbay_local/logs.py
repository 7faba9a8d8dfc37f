"""The local stack's own lines in its log, whole.

The stack's output is shared by every thread: the functions' Powertools lines (one write each) and
the stack's own. ``print`` writes a line's text and its newline separately, so a line written by
another thread meanwhile landed in between, glued to the end of the first ("... 404 (CatalogFunction,
779 ms){"level":"INFO",...}") where a reader of JSON lines misses it. One write per line keeps them
apart.
"""

from __future__ import annotations

from typing import TextIO


def log_line(log: TextIO, text: str) -> None:
    """Write ``text`` and its newline to ``log`` in one write, and flush."""
    log.write(text + "\n")
    log.flush()
