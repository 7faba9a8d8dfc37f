"""GET /v1/availability over a full 60-day horizon, against the DynamoDB query it is built on.

    .venv/bin/python bench/availability.py [--appointments 5000] [--samples 25]

In process, on moto: the template's tables, the demo shop (ops/shops/demo.yaml) with the Austin
store's capacity raised so the appointments fit, then the slot usage of ``--appointments`` random
appointments (30- and 90-minute services) over the horizon, written as the booking flow writes it
(one SlotItem per slot used, a few slots blocked). Then, each the median of ``--samples`` runs:

  (a) the request through the function's handler (warm: the catalog is cached, one Query), and
  (b) the raw DynamoDB Query of the same key range alone (boto3, every page),

and their ratio (what the handler adds: routing, validation, the slot arithmetic, JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import random
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: reach scripts/, bench/

from bench.dynamodb_calls import REGION, CallCounter, FakeContext, create_tables
from scripts.openapi import BASE_ENV, ROOT, function_environments, load_template

DEMO_SHOP = ROOT / "ops" / "shops" / "demo.yaml"
EVENT = ROOT / "events" / "availability_get.json"
LOCATION_ID = "austin-downtown"
SERVICE_ID = "brake-inspection"  # 90 minutes: 3 slots per start
CAPACITY = 20
BLOCKED_SHARE = 0.02
HORIZON_DAYS = 60


def seed(table_name: str, appointments: int, now: datetime, rng: random.Random) -> dict[str, Any]:
    """The demo shop and the slot usage of ``appointments`` random bookings; what was written."""
    from bookbay.domain import availability
    from bookbay.models import keys
    from bookbay.models.booking import SlotItem
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.shopfile import read_shop_file

    catalog = read_shop_file(DEMO_SHOP)
    location = next(loc for loc in catalog.locations if loc.id == LOCATION_ID)
    location = location.model_copy(update={"capacity_per_slot": CAPACITY})
    settings = catalog.shop.settings.model_copy(update={"horizon_days": HORIZON_DAYS})
    catalog = catalog.model_copy(
        update={
            "shop": catalog.shop.model_copy(update={"settings": settings}),
            "locations": [location if loc.id == LOCATION_ID else loc for loc in catalog.locations],
        }
    )
    CatalogRepository(table_name, REGION).upsert(catalog)

    today = now.astimezone(availability.zone_of(location)).date()
    horizon = [today + timedelta(days=d) for d in range(HORIZON_DAYS + 1)]
    all_slots = [s for day in horizon for s in availability.slot_starts(location, settings, day)]
    used: Counter[datetime] = Counter()
    blocked = set(rng.sample(all_slots, int(len(all_slots) * BLOCKED_SHARE)))
    services = [svc for svc in catalog.services if "in_store" in svc.appointment_types]
    placed = 0
    for _ in range(appointments):
        service = rng.choice(services)
        for _attempt in range(20):
            held = availability.required_slots(location, service, settings, rng.choice(all_slots))
            if held and not blocked & set(held) and all(used[s] < CAPACITY for s in held):
                used.update(held)
                placed += 1
                break
    with SlotItem.batch_write() as batch:
        for start in sorted(set(used) | blocked):
            item = SlotItem(keys.location_pk(LOCATION_ID), keys.slot_sk(start), used=used[start])
            if start in blocked:
                item.blocked = True
            batch.save(item)
    return {
        "slots_in_horizon": len(all_slots),
        "slot_items": len(set(used) | blocked),
        "appointments_placed": placed,
        "slot_uses": sum(used.values()),
        "blocked": len(blocked),
    }


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], Any], samples: int) -> tuple[list[float], Any]:
    """``samples`` durations of ``action()`` and its last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(samples):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return times, result


def load_handler(now: datetime) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_fn_availability", ROOT / "functions" / "availability" / "app.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("cannot import functions/availability/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vars(module)["clock"] = lambda: now  # the request's "now": the usage was seeded from it
    return module


def request_event(today: date, days: int) -> dict[str, Any]:
    query = {
        "location_id": LOCATION_ID,
        "service_id": SERVICE_ID,
        "appointment_type": "in_store",
        "from": today.isoformat(),
        "days": str(days),
    }
    event: dict[str, Any] = json.loads(EVENT.read_text(encoding="utf-8"))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


def raw_query(table_name: str, start_utc: datetime, end_utc: datetime) -> Callable[[], list[dict[str, Any]]]:
    """The service's Query with boto3 alone, every page."""
    import boto3

    from bookbay.models import keys

    client = boto3.client("dynamodb", region_name=REGION)
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.location_pk(LOCATION_ID)},
            ":lo": {"S": keys.slot_sk(start_utc)},
            ":hi": {"S": keys.slot_sk(end_utc)},
        },
    }

    def query() -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        params: dict[str, Any] = dict(request)
        while True:
            pages.append(client.query(**params))
            if "LastEvaluatedKey" not in pages[-1]:
                return pages
            params["ExclusiveStartKey"] = pages[-1]["LastEvaluatedKey"]

    return query


def run(appointments: int, samples: int) -> dict[str, Any]:
    from moto import mock_aws

    warnings.filterwarnings("ignore", "No application metrics to publish")
    counter = CallCounter()
    counter.install()
    template = load_template()
    rng = random.Random(20261123)
    with mock_aws():
        tables = create_tables(template)
        environment = {**BASE_ENV, **function_environments(template, refs=tables)["availability"]}
        os.environ.update(environment)
        now = datetime.now(UTC)
        seeded = seed(environment["TABLE_NAME"], appointments, now, rng)
        module = load_handler(now)

        from bookbay.domain import availability

        catalog = module.deps.catalog.catalog()
        location, service = catalog.location(LOCATION_ID), catalog.service(SERVICE_ID)
        settings = catalog.shop.settings
        today: date = now.astimezone(availability.zone_of(location)).date()
        event = request_event(today, settings.horizon_days)

        # (a) the handler, warm: a first request warms the catalog cache and the imports
        with contextlib.redirect_stdout(io.StringIO()):  # the cold-start metric's EMF line
            first = module.lambda_handler(json.loads(json.dumps(event)), FakeContext())
        if first["statusCode"] != 200:
            raise RuntimeError(f"availability answered {first['statusCode']}: {first['body']}")
        counter.take()
        handler_times, response = timed(
            lambda: module.lambda_handler(json.loads(json.dumps(event)), FakeContext()), samples
        )
        handler_calls = counter.take()

        # (b) the same Query alone: the range the service reads (first bookable start .. horizon end)
        window = availability.bookable_days(location, settings, today, settings.horizon_days, now)
        if window is None:
            raise RuntimeError("no day of the horizon is bookable")
        start_utc, end_utc = availability.day_bounds_utc(location, *window)
        start_utc = max(start_utc, availability.earliest_start(settings, now))
        query_times, pages = timed(raw_query(environment["TABLE_NAME"], start_utc, end_utc), samples)

        # (c) the slot arithmetic alone, on the usage read
        usage = module.deps.availability.usage(LOCATION_ID, start_utc, end_utc)
        domain_times, _ = timed(
            lambda: availability.bookable_slots(
                location,
                service,
                settings,
                appointment_type="in_store",
                customer_zip=None,
                start_day=today,
                days=settings.horizon_days,
                now=now,
                usage=usage,
            ),
            samples,
        )

    handler_ms, query_ms = median_ms(handler_times), median_ms(query_times)
    return {
        **seeded,
        "samples": samples,
        "slots_answered": len(json.loads(response["body"])["slots"]),
        "response_bytes": len(response["body"]),
        "handler_dynamodb_calls_per_request": {k: v / samples for k, v in handler_calls.items()},
        "query_pages": len(pages),
        "query_items": sum(page["Count"] for page in pages),
        "query_json_bytes": sum(len(json.dumps(page["Items"])) for page in pages),
        "handler_median_ms": round(handler_ms, 2),
        "raw_query_median_ms": round(query_ms, 2),
        "slot_arithmetic_median_ms": round(median_ms(domain_times), 2),
        "ratio": round(handler_ms / query_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    row = run(args.appointments, args.samples)
    calls = ", ".join(
        f"{name} {count:g}" for name, count in sorted(row["handler_dynamodb_calls_per_request"].items())
    )
    print(
        f"Availability over {HORIZON_DAYS} days (moto, in process; {LOCATION_ID}, capacity {CAPACITY}, "
        f"{SERVICE_ID}; median of {row['samples']})"
    )
    print(
        f"  usage       {row['appointments_placed']} appointments placed, {row['slot_uses']} slot uses, "
        f"{row['slot_items']} slot items ({row['blocked']} blocked) of {row['slots_in_horizon']} slots"
    )
    print(
        f"  query       {row['query_pages']} page(s), {row['query_items']} items, "
        f"~{row['query_json_bytes'] / 1024:.0f} KiB as JSON"
    )
    print(f"  answer      {row['slots_answered']} bookable starts, {row['response_bytes'] / 1024:.0f} KiB")
    print(f"  (a) handler {row['handler_median_ms']:>8.2f} ms   DynamoDB calls per warm request: {calls}")
    print(f"  (b) query   {row['raw_query_median_ms']:>8.2f} ms")
    print(f"  ratio a/b   {row['ratio']:>8.2f}")
    print(
        f"  (c) slot arithmetic alone (bookable_slots on the usage) {row['slot_arithmetic_median_ms']:.2f} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
