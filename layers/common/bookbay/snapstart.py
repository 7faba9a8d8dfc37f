"""Lambda SnapStart: what a function restored from a snapshot must not share with the others.

With SnapStart (template parameter ``SnapStart``), Lambda runs a function's init once, when a
version is published, and restores every new execution environment of that version from the
snapshot of its memory. What init left in memory is then the same in all of them:

- ``random``'s generator state (seeded from the OS at its import, so in the snapshot): every
  restored environment would draw the same sequence, and the draws that are there to tell
  concurrent environments apart would agree instead (the transactions' retry jitter, the choice of
  a free rate-window slot, botocore's retry backoff). ``after_restore`` reseeds it.
- ``secrets``, ``uuid.uuid4`` and ``os.urandom`` read the kernel's generator on each call: unique
  after a restore, nothing to do (the ids, codes, nonces and tokens all come from them).
- No init opens a connection or reads a secret: clients are created (the booking function's
  idempotency client) but connect on their first request, the signing secret and the catalog are
  read on the first request that needs them, and botocore refreshes credentials that expired
  while the snapshot waited (SnapStart functions get the refreshable container credentials).
- One value is computed at import: the vehicle year's upper bound (``domain/booking.py``, the
  current year + 2), so with SnapStart it counts from the year the version was published, not
  restored: it lags a year for each year without a release (left as is: domain code).

Lambda runs the hooks registered with ``snapshot_restore_py``, a module of its Python runtime (3.12
and later) that exists nowhere else: not in the tests, the local stack or ``.venv``. Importing
this module registers them where it exists, once, and does nothing elsewhere; it imports nothing
but ``random``, which every function has loaded already.
"""

from __future__ import annotations

import random


def after_restore() -> None:
    """Give this execution environment a ``random`` state of its own (seeded from ``os.urandom``).

    It runs before the restored environment's first invocation, within the 10 s Lambda allows a
    restore, and must not raise (the restore would fail): ``random.seed()`` does neither."""
    random.seed()


def register_hooks() -> bool:
    """Register the hooks with Lambda's runtime; False where there is none (no SnapStart)."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            register_after_restore,
        )
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True


HOOKS_REGISTERED: bool = register_hooks()
