"""The local stack's booking time as its table grows: the 500th booking against the 20th, over HTTP.

    .venv/bin/python bench/local_booking.py [--url URL] [--bookings 500] [--check] [--json FILE]

Without ``--url`` it starts a local stack as ``make run`` does (``python -m bookbay_local``, on a
free port, its output in a temporary file) and stops it after; with ``--url`` it books on a
stack already running (which then holds the bookings). Each booking is a new customer of the
demo shop (ops/shops/demo.yaml) booking as tests/e2e/booking.py books: from a loopback address
of their own (127.x.y.z, the client socket bound to it), with the verification token of their
e-mail where the shop asks for one (a one-time code from the stack's messages), a new
Idempotency-Key, and one of the free starts of the Austin store's in-store oil change that GET
/v1/availability lists (capacity 2 per slot, one day after another from tomorrow; no limit is
raised). Customers verify 25 at a time, then book one after another; only the POST
/v1/appointments is timed, and the stack's streams are drained (POST /_local/streams/drain,
untimed) after each booking, so a booking's outbox delivery does not land in the next one's time.

It prints the median time of bookings 11-30 ("the 20th": the 20 bookings around it, past the
first requests' warm-up, shown apart for 1-20) and of the last 20 (481-500), and their ratio;
``--check`` exits 1 when the ratio is over 1.2. About 5 minutes for 500 bookings on 2 cores, the
bookings themselves under half a minute (the rest: the codes, and the drains).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "layers" / "common", ROOT / "local"):  # run as a script
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import httpx  # noqa: E402

from tests.e2e.booking import (  # noqa: E402
    SERVICE,
    address_of,
    client_from,
    closed,
    drain,
    requires_verification,
    verification_tokens,
)

AUSTIN = ZoneInfo("America/Chicago")
READY = re.compile(r"^Bookbay local stack ready at (http://\S+)$", re.MULTILINE)
START_TIMEOUT_SECONDS = 90
VERIFY_BATCH = 25
WINDOW = 20
EARLY = (11, 30)  # "the 20th": bookings 11-30 (1-based, inclusive)
LIMIT = 1.2


@contextmanager
def started_stack() -> Iterator[str]:
    """``python -m bookbay_local --port 0`` (make run's command), its base URL once it is ready."""
    paths = [str(ROOT / "layers" / "common"), str(ROOT / "local"), str(ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    with tempfile.TemporaryDirectory(prefix="bookbay-bench-") as folder:
        log_path = Path(folder) / "local-stack.log"
        with log_path.open("wb") as log:  # a file, not a pipe nobody reads
            process = subprocess.Popen(
                [sys.executable, "-m", "bookbay_local", "--port", "0"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while (ready := READY.search(log_path.read_text(errors="replace"))) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
                    raise SystemExit(f"the local stack did not start:\n{tail}")
                time.sleep(0.1)
            yield ready.group(1)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def free_starts(http: httpx.Client, wanted: int) -> list[str]:
    """``wanted`` starts to book, each as many times as its slot has room: the free starts GET
    /v1/availability lists, day by open day from tomorrow (Austin time)."""
    starts: list[str] = []
    day = datetime.now(AUSTIN).date()
    last = day + timedelta(days=60)
    while len(starts) < wanted:
        day += timedelta(days=1)
        if day > last:
            raise SystemExit(f"only {len(starts)} free starts within the horizon; {wanted} wanted")
        if closed(day):
            continue
        answer = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
        if answer.status_code != 200:
            raise SystemExit(f"GET /v1/availability: {answer.status_code} {answer.text}")
        for slot in answer.json()["slots"]:
            starts.extend([slot["start"]] * int(slot["remaining"]))
    return starts[:wanted]


def customer(run: str, exchange: int, n: int) -> dict[str, str]:
    return {
        "first_name": "Bench",
        "last_name": f"Customer{n}",
        "phone": f"+1 512-{exchange}-{n:04d}",
        "email": f"bench-{run}-{n}@example.com",
    }


def book_all(http: httpx.Client, count: int) -> list[float]:
    """Book ``count`` appointments, each by a new customer; each POST's seconds, in order."""
    run = uuid.uuid4().hex[:8]
    exchange = random.randint(200, 999)  # this run's phone numbers: apart from other runs'
    if exchange == 555:
        exchange = 556
    starts = free_starts(http, count)
    verify = requires_verification(http)
    seconds: list[float] = []
    for first in range(0, count, VERIFY_BATCH):
        batch = [customer(run, exchange, n) for n in range(first, min(first + VERIFY_BATCH, count))]
        tokens = verification_tokens(http, batch) if verify else [None] * len(batch)
        for n, (who, token) in enumerate(zip(batch, tokens, strict=True), start=first):
            body = {**SERVICE, "start": starts[n], "customer": who, "source": "bench"}
            body["vehicle"] = {"year": 2020, "make": "Mazda", "model": "CX-5"}
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            with client_from(http, address_of(who)) as own:
                began = time.perf_counter()
                answer = own.post("/v1/appointments", json=body, headers=headers)
                seconds.append(time.perf_counter() - began)
            if answer.status_code != 201:
                raise SystemExit(f"booking {n + 1}: {answer.status_code} {answer.text}")
            drain(http)
        done = len(seconds)
        print(f"  {done} booked, the last at {seconds[-1] * 1000:.0f} ms", file=sys.stderr, flush=True)
    return seconds


def median_ms(seconds: Sequence[float], first: int, last: int) -> float:
    """The median of bookings ``first``..``last`` (1-based, inclusive), in milliseconds."""
    return statistics.median(seconds[first - 1 : last]) * 1000


def report(seconds: Sequence[float]) -> dict[str, Any]:
    count = len(seconds)
    late = (count - WINDOW + 1, count)
    early_ms, late_ms = median_ms(seconds, *EARLY), median_ms(seconds, *late)
    return {
        "bookings": count,
        "first_20_ms": round(median_ms(seconds, 1, WINDOW), 1),
        f"bookings_{EARLY[0]}_{EARLY[1]}_ms": round(early_ms, 1),
        f"bookings_{late[0]}_{late[1]}_ms": round(late_ms, 1),
        "ratio": round(late_ms / early_ms, 3),
        "limit": LIMIT,
        "seconds": [round(s, 4) for s in seconds],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", help="a running local stack's base URL (default: start one)")
    parser.add_argument("--bookings", type=int, default=500, help="how many to book (default 500)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the ratio is over {LIMIT}")
    parser.add_argument("--json", type=Path, help="also write the figures (every booking's time) here")
    args = parser.parse_args(argv)
    if args.bookings < EARLY[1] + WINDOW:
        parser.error(f"--bookings must be at least {EARLY[1] + WINDOW}")

    began = time.monotonic()
    with (
        started_stack() if args.url is None else _given(args.url) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        seconds = book_all(http, args.bookings)
    figures = report(seconds)
    figures["run_seconds"] = round(time.monotonic() - began, 1)
    early, late = (k for k in figures if k.startswith("bookings_"))
    print(
        f"POST /v1/appointments on the local stack, {figures['bookings']} bookings in "
        f"{figures['run_seconds']} s: median of {_span(early)} {figures[early]} ms "
        f"(1-20: {figures['first_20_ms']} ms), of {_span(late)} {figures[late]} ms; "
        f"ratio {figures['ratio']} (limit {LIMIT})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if args.check and figures["ratio"] > LIMIT else 0


def _span(key: str) -> str:
    """``bookings_11_30_ms`` -> ``bookings 11-30``."""
    _, first, last, _ = key.split("_")
    return f"bookings {first}-{last}"


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url.rstrip("/")


if __name__ == "__main__":
    sys.exit(main())
