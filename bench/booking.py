"""DynamoDB round trips per booking (POST /v1/appointments), idempotency records included.

    .venv/bin/python bench/booking.py [--json FILE]

In process, on moto: the template's tables and the demo shop (ops/shops/demo.yaml), then the
booking function imported with its template environment and sent the sample event
(events/booking_post.json) with different customers, slots and Idempotency-Keys. Every DynamoDB
call any botocore client makes is counted (the handler's own, PynamoDB's and Powertools'
idempotency layer's), by wrapping ``BaseClient._make_api_call``. A warm booking must take at
most 4: the idempotency record (put), the customer lookup (one BatchGetItem), the booking (one
TransactWriteItems) and the idempotency record (update); the catalog is cached while warm.

The flag check (every booking is matched against the flagged customers on name, e-mail, phone and
address) is reported per booking: the FLAGVALUE keys read inside the customer's BatchGetItem (at
most one batch read, and no round trip of its own), and the condition checks on FLAGVALUE items
in the transaction (details from the record on file, which the first read could not name). One
booking matches a flag on its phone; the last one has a flagged detail on file: its condition check
fails and hands the flag back with the cancellation, so it costs the write once more but no other
read (5 round trips, shown apart: the 4-trip limit is for the rest; the one-batch-read limit of the
flag check holds for every booking).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: reach scripts/, bench/

from bench.dynamodb_calls import REGION, CallCounter, FakeContext, create_tables
from scripts.openapi import BASE_ENV, ROOT, function_environments, load_template

DEMO_SHOP = ROOT / "ops" / "shops" / "demo.yaml"
EVENT = ROOT / "events" / "booking_post.json"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 09:00 in Austin
WARM_LIMIT = 4


@dataclass(frozen=True)
class Step:
    name: str
    start: str
    customer: dict[str, str]
    key: str
    warm: bool = True  # counts toward the warm limit
    vehicle: dict[str, Any] | None = None
    # A verified returning customer: a verification token naming them, no details typed, their
    # saved vehicle picked (read with the profile in the one BatchGetItem)
    verified: bool = False
    # Flags staff create before this booking: FlagCreate bodies (not counted)
    flags_before: tuple[dict[str, Any], ...] = ()
    limited: bool = True  # held to WARM_LIMIT (when warm)


NEW_A = {"first_name": "Dana", "last_name": "Rivera", "phone": "+1 512-555-0123", "email": "dana@example.com"}
NEW_B = {"first_name": "Sam", "last_name": "Lee", "phone": "+1 512-555-0124", "email": "sam@example.com"}
NEW_C = {"first_name": "Kim", "last_name": "Ortiz", "phone": "+1 512-555-0125", "email": "kim@example.com"}
RETURNING_A = {**NEW_A, "last_name": "Rivera-Lopez", "email": "dana@work.example.com"}
# Sam's phone with another name and e-mail: seed 004's "same person, new e-mail, same phone"
FLAGGED_PHONE = {**NEW_B, "first_name": "Alex", "email": "alex@new.example.com"}
FLAG_ON_SAMS_PHONE = {"phone": NEW_B["phone"], "reason": "Left without paying (bench)"}
FLAG_ON_DANAS_EMAIL = {"email": NEW_A["email"], "reason": "Abusive on the phone (bench)"}

STEPS = [
    Step("cold start: new customer", "2026-11-24T08:00:00-06:00", NEW_A, "bench-key-0001", warm=False),
    Step("warm: new customer", "2026-11-24T08:30:00-06:00", NEW_B, "bench-key-0002"),
    Step("warm: returning customer, same details", "2026-11-24T09:00:00-06:00", NEW_A, "bench-key-0003"),
    Step(
        "warm: returning customer, new name, e-mail, vehicle",
        "2026-11-24T09:30:00-06:00",
        RETURNING_A,
        "bench-key-0004",
        vehicle={"year": 2022, "make": "Ford", "model": "Maverick"},
    ),
    Step(
        "warm: replay of the last request",
        "2026-11-24T09:30:00-06:00",
        RETURNING_A,
        "bench-key-0004",
        vehicle={"year": 2022, "make": "Ford", "model": "Maverick"},
    ),
    Step("warm: slot full (409 + alternatives)", "2026-11-24T08:00:00-06:00", NEW_C, "bench-key-0005"),
    Step(
        "warm: verified returning customer, saved vehicle",
        "2026-11-24T10:00:00-06:00",
        NEW_A,
        "bench-key-0006",
        verified=True,
    ),
    Step(
        "warm: flagged phone, new name and e-mail (matches)",
        "2026-11-24T10:30:00-06:00",
        FLAGGED_PHONE,
        "bench-key-0007",
        flags_before=(FLAG_ON_SAMS_PHONE,),
    ),
    Step(
        "warm: verified, flagged e-mail on file (matches)",
        "2026-11-24T11:00:00-06:00",
        NEW_A,
        "bench-key-0008",
        verified=True,
        flags_before=(FLAG_ON_DANAS_EMAIL,),
        limited=False,
    ),
]


class FlagCostCounter:
    """Per booking: BatchGetItem calls that read FLAGVALUE keys, the keys they read, and the
    condition checks on FLAGVALUE items in TransactWriteItems (from the requests' parameters)."""

    def __init__(self) -> None:
        self.batch_reads = self.keys = self.checks = 0

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                counter.inspect(operation_name, api_params)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = counting

    @staticmethod
    def _is_flag_key(key: dict[str, Any]) -> bool:
        return str(key.get("PK", {}).get("S", "")).startswith("FLAGVALUE#")

    def inspect(self, operation: str, params: dict[str, Any]) -> None:
        if operation == "BatchGetItem":
            read = [k for t in params["RequestItems"].values() for k in t["Keys"] if self._is_flag_key(k)]
            self.batch_reads += 1 if read else 0
            self.keys += len(read)
        elif operation == "TransactWriteItems":
            self.checks += sum(
                1
                for item in params["TransactItems"]
                if "ConditionCheck" in item and self._is_flag_key(item["ConditionCheck"]["Key"])
            )

    def take(self) -> dict[str, int]:
        taken = {"flag_batch_reads": self.batch_reads, "flag_keys": self.keys, "flag_checks": self.checks}
        self.batch_reads = self.keys = self.checks = 0
        return taken


def load_booking_function(environment: dict[str, str]) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_fn_booking", ROOT / "functions" / "booking" / "app.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("cannot import functions/booking/app.py")
    module = importlib.util.module_from_spec(spec)
    os.environ.update(environment)
    spec.loader.exec_module(module)
    return module


def event_for(step: Step, verified: tuple[str, str] | None = None) -> dict[str, Any]:
    """The sample event for ``step``; ``verified`` = (verification token, saved vehicle id)."""
    event: dict[str, Any] = json.loads(EVENT.read_text(encoding="utf-8"))
    body = json.loads(event["body"])
    body.update({"start": step.start, "customer": step.customer})
    if step.vehicle is not None:
        body["vehicle"] = step.vehicle
    if verified is not None:
        del body["customer"], body["vehicle"]
        body["vehicle_id"] = verified[1]
        event["headers"]["Authorization"] = f"Bearer {verified[0]}"
    event["body"] = json.dumps(body)
    event["headers"]["Idempotency-Key"] = step.key
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


def run() -> list[dict[str, Any]]:
    from moto import mock_aws

    warnings.filterwarnings("ignore", "No application metrics to publish")
    counter = CallCounter()
    counter.install()
    flag_costs = FlagCostCounter()
    flag_costs.install()
    template = load_template()
    rows: list[dict[str, Any]] = []
    with mock_aws():
        tables = create_tables(template)
        environment = {**BASE_ENV, **function_environments(template, refs=tables).get("booking", {})}
        environment["PUBLIC_BASE_URL"] = "https://book.demo-auto.example.com"
        environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the function's logs are not the figures
        os.environ.update(environment)

        from bookbay.api.flags import FlagCreate
        from bookbay.domain.audit import Actor
        from bookbay.domain.booking import Appointment
        from bookbay.domain.ids import stable_id
        from bookbay.models import keys
        from bookbay.models.appointments import AppointmentItem
        from bookbay.repositories.booking import BookingRepository
        from bookbay.repositories.catalog import CatalogRepository
        from bookbay.repositories.flags import FlagsRepository
        from bookbay.services import flags
        from bookbay.shopfile import read_shop_file
        from bookbay.types import normalize_phone

        catalog = read_shop_file(DEMO_SHOP)
        # Capacity 1 at the store, so that booking the first slot again is the 409 path; the
        # new-customer steps book without a code (the code step is its own function's cost).
        settings = catalog.shop.settings.model_copy(update={"require_verification": False})
        catalog = catalog.model_copy(
            update={
                "shop": catalog.shop.model_copy(update={"settings": settings}),
                "locations": [
                    loc.model_copy(update={"capacity_per_slot": 1}) if loc.id == "austin-downtown" else loc
                    for loc in catalog.locations
                ],
            }
        )
        CatalogRepository(environment["TABLE_NAME"], REGION).upsert(catalog)
        module = load_booking_function(environment)
        vars(module)["clock"] = lambda: NOW
        # The function's tokens signed with a constant key: Secrets Manager is not what is measured here
        tokens = module.deps.tokens
        vars(tokens)["_secret"] = lambda: b"bench-signing-key-0123456789abcdef"
        counter.take()  # the set-up's calls are not the handler's
        flag_costs.take()

        for step in STEPS:
            for data in step.flags_before:
                new = FlagCreate.model_validate(data)
                flags.create_flag(
                    FlagsRepository(environment["TABLE_NAME"], REGION),
                    flags.NewFlag(reason=new.reason, phone=new.phone, email=new.email),
                    actor=Actor(sub="bench"),
                    now=NOW,
                )
                counter.take()  # staff's calls, not the booking's
            verified: tuple[str, str] | None = None
            if step.verified:
                customer = BookingRepository(environment["TABLE_NAME"], REGION).find_customer(
                    normalize_phone(step.customer["phone"]), step.customer["email"]
                )
                assert customer is not None, "the verified step's customer booked before"  # noqa: S101
                phone = normalize_phone(step.customer["phone"])
                vehicle_id = stable_id(customer.customer_id, "2019|honda|civic")
                verified = (tokens.issue(phone, "sms", customer.customer_id, NOW), vehicle_id)
                counter.take()  # the bench's own reads
            with contextlib.redirect_stdout(io.StringIO()):  # the EMF cold-start metric line
                response = module.lambda_handler(event_for(step, verified), FakeContext())
            calls = counter.take()
            costs = flag_costs.take()
            matched: list[str] = []
            if response.get("statusCode") == 201:  # what the booking stored (not counted)
                appointment_id = json.loads(response["body"])["appointment"]["id"]
                item = AppointmentItem.get(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK)
                stored = Appointment.model_validate(item.body)
                matched = [field for m in stored.flag_matches for field in m.fields]
                counter.take()
                flag_costs.take()
            rows.append(
                {
                    "step": step.name,
                    "status": response.get("statusCode"),
                    "warm": step.warm,
                    "limited": step.limited,
                    "round_trips": sum(calls.values()),
                    "calls": calls,
                    **costs,
                    "matched": matched,
                }
            )
    return rows


def describe(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(calls.items())) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    rows = run()
    print("DynamoDB round trips per booking (moto; demo shop; idempotency records included)")
    print("flag check: batch reads with FLAGVALUE keys / keys read / FLAGVALUE condition checks")
    print(f"{'booking':<52} {'status':>6} {'trips':>5} {'flag check':>10}  {'matched':<14} calls")
    for row in rows:
        check = f"{row['flag_batch_reads']}/{row['flag_keys']}/{row['flag_checks']}"
        matched = ",".join(row["matched"]) or "-"
        print(
            f"{row['step']:<52} {row['status']:>6} {row['round_trips']:>5} {check:>10}  {matched:<14} "
            f"{describe(row['calls'])}"
        )
    warm_bookings = [r for r in rows if r["warm"] and r["limited"] and r["status"] == 201]
    worst = max(r["round_trips"] for r in warm_bookings)
    verdict = "ok" if worst <= WARM_LIMIT else "OVER THE LIMIT"
    print(f"warm bookings: at most {worst} round trips (limit {WARM_LIMIT}): {verdict}")
    # The flag check reads inside the customer's BatchGetItem: one batch read at most, none of its own
    every_warm = [r for r in rows if r["warm"] and r["status"] == 201]
    flag_reads = max(r["flag_batch_reads"] for r in every_warm)
    shared = all(r["calls"].get("BatchGetItem", 0) <= 1 for r in every_warm)
    flag_ok = flag_reads <= 1 and shared
    print(
        f"flag check: at most {flag_reads} batch read per booking, inside the customer's BatchGetItem "
        f"(no round trip of its own): {'ok' if flag_ok else 'OVER THE LIMIT'}"
    )
    for row in rows:
        if not row["limited"]:
            print(
                f"a flagged detail on file ({row['step']}): {row['round_trips']} round trips, "
                f"{row['flag_batch_reads']} batch read with flag keys (the failed check hands the flag "
                "back; the write once more)"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if worst <= WARM_LIMIT and flag_ok else 1


if __name__ == "__main__":
    sys.exit(main())
