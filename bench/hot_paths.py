"""The requests on the customer's path, warm, as bench/dynamodb_calls.py measures them and
tests/integration/test_round_trips.py holds them to their limits.

Each ``Sample`` names a function, its sample event (events/) and, for the hot paths, a maker of
fresh but equivalent requests: the n-th booking is another customer at another slot, the n-th code
send goes to another phone from another address, the n-th check checks a code just started for
another phone, the n-th link page is another appointment's. So what a warm container keeps (the
catalog, the signing secret, clients) counts, and no request is an idempotency replay.

``Meter`` wraps botocore's ``BaseClient._make_api_call``: the DynamoDB operations a request makes,
in order (with where in the layer each was made from, when tracing), its other AWS calls, and the
CPU and wall time spent inside them (with moto in process, moto's work is in there).
``invoke`` times one handler call: its thread's CPU time minus the CPU time inside AWS calls is
the handler's own.

Nothing here imports ``bookbay`` at import time: a bench child sets the function's environment
first.
"""

from __future__ import annotations

import copy
import gc
import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
LAYER_PACKAGE = ROOT / "layers" / "common" / "bookbay"
REGION = "us-east-1"
# The clock of the functions that read one (``module.clock``): a Monday, 09:00 in Austin, before
# the sample events' dates. The customer link pages read the real clock (their appointments are
# seeded from today).
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

EventMaker = Callable[[int], dict[str, Any]]  # n -> the n-th request's event (0: the cold one)


@dataclass(frozen=True)
class Setup:
    """What a maker of requests gets: the function's module (imported, not yet invoked) and the
    environment it was imported with."""

    module: ModuleType
    environment: Mapping[str, str]

    @property
    def table_name(self) -> str:
        return self.environment["TABLE_NAME"]


@dataclass(frozen=True)
class Sample:
    request: str
    function: str  # folder under functions/
    event: str  # file under events/ (without .json)
    query: dict[str, str] | None = None  # replaces the event's query string
    logical_id: str = ""  # the template's function (the integration test loads it by that)
    limit: int | None = None  # DynamoDB round trips a warm request may take
    status: int | None = None  # what every request must answer (None: anything but an error)
    # Fresh equivalent requests; None: the sample event itself, every time.
    requests: Callable[[Setup], EventMaker] | None = None


def load_event(sample: Sample) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{sample.event}.json").read_text(encoding="utf-8"))
    if sample.query is not None:
        event = with_query(event, sample.query)
    return event


def with_query(event: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


def with_body(
    event: dict[str, Any], body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["body"] = json.dumps(body)
    event["headers"] = {**event["headers"], **(headers or {})}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


def with_source_ip(event: dict[str, Any], ip: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["identity"]["sourceIp"] = ip
    event["headers"]["X-Forwarded-For"] = ip
    event["multiValueHeaders"]["X-Forwarded-For"] = [ip]
    return event


def fixed_clock(setup: Setup) -> None:
    vars(setup.module)["clock"] = lambda: NOW


def signing_secret(setup: Setup) -> bytes:
    """The stack's signing secret, read here (not through the function's cache, which stays cold)."""
    import boto3

    client = boto3.client("secretsmanager", region_name=REGION)
    value: str = client.get_secret_value(SecretId=setup.environment["SIGNING_KEY_SECRET_ARN"])["SecretString"]
    return value.encode("utf-8")


# ------------------------------------------------------------------------------ the requests
def bookings(setup: Setup) -> EventMaker:
    """POST /v1/appointments as the demo shop takes it (a code first): the n-th new customer,
    verified by a token for their phone, at the n-th free oil-change start in Austin."""
    from bookbay.domain import availability
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.services.verification_tokens import VerificationTokens

    fixed_clock(setup)
    secret = signing_secret(setup)
    tokens = VerificationTokens(lambda: secret)
    catalog = CatalogRepository(setup.table_name, REGION).catalog()
    location, service = catalog.location("austin-downtown"), catalog.service("oil-change")
    assert location is not None and service is not None  # noqa: S101 - the demo shop has them
    starts = [
        slot.start
        for slot in availability.bookable_slots(
            location,
            service,
            catalog.shop.settings,
            appointment_type="in_store",
            customer_zip=None,
            start_day=NOW.date() + timedelta(days=1),
            days=14,
            now=NOW,
            usage={},
        )
    ]
    base = load_event(BOOKING)

    def event(n: int) -> dict[str, Any]:
        phone = f"+1512555{3000 + n:04d}"
        body = json.loads(base["body"])
        body["start"] = starts[n].isoformat()
        body["customer"] = {
            "first_name": "Bench",
            "last_name": f"Customer {n}",
            "phone": phone,
            "email": f"bench.customer.{n}@example.com",
        }
        token = tokens.issue(phone, "sms", None, NOW)
        headers = {"Idempotency-Key": f"bench-booking-{n:04d}", "Authorization": f"Bearer {token}"}
        return with_source_ip(with_body(base, body, headers), f"203.0.113.{1 + n % 250}")

    return event


def free_times(setup: Setup) -> EventMaker:
    """GET /v1/availability: a week of free times, the n-th from another day and alternating
    the service."""
    fixed_clock(setup)
    base = load_event(AVAILABILITY)
    services = ("brake-inspection", "oil-change")

    def event(n: int) -> dict[str, Any]:
        query = dict(base["queryStringParameters"])
        query["from"] = (date.fromisoformat(query["from"]) + timedelta(days=n % 14)).isoformat()
        query["service_id"] = services[n % len(services)]
        return with_query(base, query)

    return event


def code_sends(setup: Setup) -> EventMaker:
    """POST /v1/verification/codes: the n-th an SMS code to another phone from another address."""
    fixed_clock(setup)
    base = load_event(CODE_SEND)

    def event(n: int) -> dict[str, Any]:
        body = {"channel": "sms", "to": f"+1512555{4000 + n:04d}"}
        return with_source_ip(with_body(base, body), f"198.51.100.{1 + n % 250}")

    return event


def code_checks(setup: Setup) -> EventMaker:
    """POST /v1/verification/checks: the n-th the right code for another phone (a new customer),
    whose code was started just before (written by the repository, not counted)."""
    from bookbay.domain import verification as v
    from bookbay.repositories.verification import VerificationRepository

    fixed_clock(setup)
    code_key = v.derive_key(signing_secret(setup), "verification-code")
    codes = VerificationRepository(setup.table_name, REGION)
    base = load_event(CODE_CHECK)

    def event(n: int) -> dict[str, Any]:
        phone = f"+1512555{5000 + n:04d}"
        challenge = codes.start_challenge(v.destination_digest(code_key, phone), "sms", v.new_nonce(), NOW)
        assert challenge is not None  # noqa: S101 - a new phone: no cooldown
        code = v.challenge_code(code_key, phone, challenge.nonce, challenge.counter)
        body = {"to": phone, "code": code, "zip": "78701"}
        return with_source_ip(with_body(base, body), f"192.0.2.{1 + n % 250}")

    return event


def link_pages(setup: Setup) -> EventMaker:
    """GET /c/{token}: the n-th another confirmed appointment's manage link, the appointment
    written as a booking leaves it (tests.support.appointments, not counted)."""
    from bookbay.repositories.catalog import CatalogRepository
    from tests.support.appointments import local, next_weekday, seed_appointment

    catalog = CatalogRepository(setup.table_name, REGION).catalog()
    day = next_weekday(datetime.now(UTC).date())
    base = load_event(LINK_PAGE)

    def event(n: int) -> dict[str, Any]:
        start = local(day + timedelta(days=7 * (n // 16)), 8 + (n % 16) // 2, 30 * (n % 2))
        token = seed_appointment(catalog, start, status="confirmed").customer_token
        e = copy.deepcopy(base)
        e["path"] = f"/c/{token}"
        e["pathParameters"] = {"token": token}
        e["requestContext"]["path"] = f"/prod/c/{token}"
        return e

    return event


BOOKING = Sample(
    "POST /v1/appointments",
    "booking",
    "booking_post",
    logical_id="BookingFunction",
    limit=4,
    status=201,
    requests=bookings,
)
AVAILABILITY = Sample(
    "GET /v1/availability",
    "availability",
    "availability_get",
    logical_id="AvailabilityFunction",
    limit=1,
    status=200,
    requests=free_times,
)
CODE_SEND = Sample(
    "POST /v1/verification/codes",
    "verification",
    "verification_codes_post",
    logical_id="VerificationFunction",
    limit=2,
    status=202,
    requests=code_sends,
)
CODE_CHECK = Sample(
    "POST /v1/verification/checks",
    "verification",
    "verification_checks_post",
    logical_id="VerificationFunction",
    limit=2,
    status=200,
    requests=code_checks,
)
LINK_PAGE = Sample(
    "GET /c/{token}",
    "customer_links",
    "customer_get",
    logical_id="CustomerLinksFunction",
    limit=1,
    status=200,
    requests=link_pages,
)
HOT_PATHS = [BOOKING, AVAILABILITY, CODE_SEND, CODE_CHECK, LINK_PAGE]


def requests_of(sample: Sample, setup: Setup) -> EventMaker:
    if sample.requests is not None:
        return sample.requests(setup)
    event = load_event(sample)
    return lambda _n: copy.deepcopy(event)


# ------------------------------------------------------------------------------ measuring
@dataclass
class Meter:
    """What AWS calls the code makes through botocore (``wrap`` the original ``_make_api_call``)."""

    trace: bool = False  # note where in the layer each DynamoDB call was made from
    operations: list[str] = field(default_factory=list)  # DynamoDB, in order
    paths: list[str] = field(default_factory=list)  # with ``trace``: one per operation
    others: list[str] = field(default_factory=list)  # service:Operation, other services
    cpu_seconds: float = 0.0  # this thread's CPU time inside the calls
    wall_seconds: float = 0.0
    _depth: int = 0

    def reset(self) -> None:
        self.operations, self.paths, self.others = [], [], []
        self.cpu_seconds = self.wall_seconds = 0.0

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        meter = self

        def metered(client: Any, operation_name: str, api_params: Any) -> Any:
            if meter._depth:  # a call made while making one: its time is counted already
                return original(client, operation_name, api_params)
            service = client.meta.service_model.service_name
            if service == "dynamodb":
                meter.operations.append(operation_name)
                if meter.trace:
                    meter.paths.append(call_path())
            else:
                meter.others.append(f"{service}:{operation_name}")
            meter._depth += 1
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                meter.cpu_seconds += time.thread_time() - cpu
                meter.wall_seconds += time.perf_counter() - wall
                meter._depth -= 1

        return metered

    @property
    def scans(self) -> int:
        return self.operations.count("Scan")


# The clients a call goes through on its way to botocore (not where it is made from)
CLIENT_LIBRARIES = ("/botocore/", "/boto3/", "/pynamodb/")


def call_path(depth: int = 3) -> str:
    """Where the call is made from: the innermost ``depth`` frames in the layer (bookbay/...),
    innermost first, after the library frame that made it when that is not the layer's own (the
    Powertools idempotency records)."""
    frames = [
        f for f in traceback.extract_stack()[:-2] if not any(lib in f.filename for lib in CLIENT_LIBRARIES)
    ]
    ours = [f for f in frames if Path(f.filename).is_relative_to(LAYER_PACKAGE)]
    path = [
        f"{Path(f.filename).relative_to(LAYER_PACKAGE.parent)}:{f.lineno} {f.name}"
        for f in reversed(ours[-depth:])
    ]
    if frames and frames[-1] not in ours:
        caller = frames[-1]
        name = caller.filename.rsplit("site-packages/", 1)[-1]
        path.insert(0, f"{name}:{caller.lineno} {caller.name}")
    return " <- ".join(path) or "?"


@dataclass(frozen=True)
class Invocation:
    status: int | None
    operations: list[str]  # DynamoDB, in order
    paths: list[str]
    others: list[str]
    handler_cpu_ms: float  # the handler's thread CPU time minus that inside AWS calls
    aws_cpu_ms: float
    aws_ms: float  # wall time inside AWS calls

    @property
    def round_trips(self) -> int:
        return len(self.operations)

    @property
    def scans(self) -> int:
        return self.operations.count("Scan")


def invoke(module: ModuleType, event: dict[str, Any], context: Any, meter: Meter) -> Invocation:
    """Call the handler once with ``event`` and measure it (``meter`` wraps botocore)."""
    gc.collect()
    meter.reset()
    cpu = time.thread_time()
    response = module.lambda_handler(event, context)
    cpu = time.thread_time() - cpu
    status = response.get("statusCode") if isinstance(response, dict) else None
    return Invocation(
        status=status,
        operations=list(meter.operations),
        paths=list(meter.paths),
        others=list(meter.others),
        handler_cpu_ms=(cpu - meter.cpu_seconds) * 1000,
        aws_cpu_ms=meter.cpu_seconds * 1000,
        aws_ms=meter.wall_seconds * 1000,
    )
