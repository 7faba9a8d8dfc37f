"""The local stack runs like Lambda under load: concurrent invocations in separate containers (each
its own import of the function's module), each function's log lines under its own service name
(one shared Powertools logger, as the layer's), and DynamoDB requests applied atomically by moto."""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bookbay_local.aws import MotoServer
from bookbay_local.functions import FunctionError, FunctionRegistry, FunctionSpec

pytestmark = pytest.mark.integration

# A handler that keeps the current event on its module while it works: two invocations sharing one
# module would see each other's event. (A Powertools resolver keeps it on a class the whole process
# shares: see test_concurrent_powertools_resolvers_each_see_their_own_event.)
SLOW_APP = """
import os, time
CURRENT = None
LOADED = time.monotonic()
def handler(event, context):
    global CURRENT
    CURRENT = event["n"]
    time.sleep(event.get("sleep", 0.3))
    return {"n": CURRENT, "module": __name__, "loaded": LOADED}
"""


def spec(code_dir: Path, logical_id: str = "SlowFunction") -> FunctionSpec:
    return FunctionSpec(
        logical_id=logical_id,
        name=f"local-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:local-{logical_id}",
        handler="app.handler",
        code_dir=code_dir,
        environment={},
        timeout_seconds=10,
    )


@pytest.fixture
def slow_app(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(SLOW_APP)
    return tmp_path


def invoke_all(registry: FunctionRegistry, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = threading.Barrier(len(events))

    def one(event: dict[str, Any]) -> dict[str, Any]:
        start.wait()
        answer: dict[str, Any] = registry.invoke("SlowFunction", event)
        return answer

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(one, events))


def test_concurrent_invocations_run_at_once_each_in_its_own_container(slow_app: Path) -> None:
    registry = FunctionRegistry([spec(slow_app)])
    assert registry.load_all() == {} and registry.containers("SlowFunction") == 1

    started = time.monotonic()
    answers = invoke_all(registry, [{"n": n} for n in range(6)])
    elapsed = time.monotonic() - started

    assert [a["n"] for a in answers] == list(range(6))  # nobody saw another invocation's event
    assert len({a["module"] for a in answers}) == 6  # six containers, six imports of app.py
    assert registry.containers("SlowFunction") == 6
    assert elapsed < 1.2  # six 0.3-second invocations side by side, not one after another


def test_containers_are_reused_and_capped(slow_app: Path) -> None:
    registry = FunctionRegistry([spec(slow_app)], max_containers=2)
    answers = invoke_all(registry, [{"n": n, "sleep": 0.1} for n in range(6)])
    assert [a["n"] for a in answers] == list(range(6))
    assert registry.containers("SlowFunction") == 2  # the others waited for a free container
    assert len({a["module"] for a in answers}) == 2
    # A later invocation takes a warm container: no new import
    assert registry.invoke("SlowFunction", {"n": 9, "sleep": 0})["module"] in {a["module"] for a in answers}


def test_a_function_that_fails_to_start_a_container_is_reported(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("raise RuntimeError('no config')\n")
    registry = FunctionRegistry([spec(tmp_path)])
    assert registry.load_all() == {"SlowFunction": "RuntimeError: no config"}
    with pytest.raises(FunctionError, match="cannot be loaded"):
        registry.invoke("SlowFunction", {"n": 1})
    assert registry.containers("SlowFunction") == 0


def test_a_registered_handler_is_one_container(tmp_path: Path) -> None:
    running = threading.Semaphore(1)
    overlaps: list[bool] = []

    def handler(event: Any, _: Any) -> Any:
        overlaps.append(not running.acquire(blocking=False))
        time.sleep(0.05)
        running.release()
        return event

    registry = FunctionRegistry([])
    registry.register("SlowFunction", handler)
    assert [a["n"] for a in invoke_all(registry, [{"n": n} for n in range(4)])] == [0, 1, 2, 3]
    assert overlaps == [False] * 4 and registry.containers("SlowFunction") == 1


# A Powertools REST resolver whose route reads the event after a pause. Powertools' resolve() keeps
# the event on its BaseRouter class, one for the whole process (every function's modules share the
# library): the local invoker makes it the invocation's own, as each Lambda container has its own.
RESOLVER_APP = """
import time
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver()

@app.get("/echo/<n>")
def echo(n):
    time.sleep(0.2)
    query = app.current_event.get_query_string_value("n")
    return {"path": n, "query": query, "served": app.lambda_context.function_name}

def handler(event, context):
    return app.resolve(event, context)
"""


def rest_event(n: int) -> dict[str, Any]:
    return {
        "resource": "/echo/{n}",
        "path": f"/echo/{n}",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": {"n": str(n)},
        "multiValueQueryStringParameters": {"n": [str(n)]},
        "pathParameters": {"n": str(n)},
        "requestContext": {"requestId": f"r{n}", "stage": "v1", "path": f"/v1/echo/{n}"},
        "body": None,
        "isBase64Encoded": False,
    }


def test_concurrent_powertools_resolvers_each_see_their_own_event(tmp_path: Path) -> None:
    specs = []
    for name in ("EchoOne", "EchoTwo"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(RESOLVER_APP)
        specs.append(spec(tmp_path / name, f"{name}Function"))
    registry = FunctionRegistry(specs)
    calls = [(specs[n % 2].logical_id, rest_event(n)) for n in range(8)]  # 4 containers of each
    start = threading.Barrier(len(calls))

    def one(call: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        start.wait()
        answer: dict[str, Any] = registry.invoke(*call)
        return answer

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(one, calls))

    assert [a["statusCode"] for a in answers] == [200] * len(calls)
    # Every invocation was routed with its own event and read its own query and context
    assert [json.loads(a["body"]) for a in answers] == [
        {"path": str(n), "query": str(n), "served": f"local-{specs[n % 2].logical_id}"} for n in range(8)
    ]


# ------------------------------------------------------------------------------ logs
# A "layer" module both functions import, once for the process (as bookbay.observability is): its
# Powertools Logger and Metrics take POWERTOOLS_SERVICE_NAME from whichever function imports first.
SHARED_LOG = """
import io
from aws_lambda_powertools import Logger, Metrics
LINES = io.StringIO()
logger = Logger(stream=LINES)
metrics = Metrics(namespace="LocalConcurrencyTest")
"""
# A handler that logs before and after a pause, while the other function's invocations append their
# own Lambda-context keys (function_name, correlation_id, ...) to the same logger.
LOGGING_APP = """
import time
from {shared} import logger, metrics

@logger.inject_lambda_context(correlation_id_path="id")
def handler(event, context):
    logger.info("started", extra={{"n": event["n"]}})
    time.sleep(event.get("sleep", 0.2))
    logger.info("finished", extra={{"n": event["n"]}})
    return {{"metrics_service": metrics.service}}
"""


@pytest.fixture
def logging_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, list[FunctionSpec]]]:
    """Two functions (Alpha, Beta) with service names of their own, sharing one logger module;
    the module (for its LINES) and their specs."""
    shared = f"shared_log_{uuid.uuid4().hex[:8]}"
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / f"{shared}.py").write_text(SHARED_LOG)
    monkeypatch.syspath_prepend(str(tmp_path / "layer"))
    specs = []
    for name in ("Alpha", "Beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(LOGGING_APP.format(shared=shared))
        specs.append(
            FunctionSpec(
                logical_id=f"{name}Function",
                name=f"local-{name}Function",
                arn=f"arn:aws:lambda:us-east-1:123456789012:function:local-{name}Function",
                handler="app.handler",
                code_dir=tmp_path / name,
                environment={"POWERTOOLS_SERVICE_NAME": f"{name.lower()}-{shared}"},
                timeout_seconds=10,
            )
        )
    registry = FunctionRegistry(specs)
    assert registry.load_all() == {}  # Alpha imports the shared module first: its logger says alpha
    try:
        yield sys.modules[shared], specs
    finally:
        sys.modules.pop(shared, None)


def log_lines(shared: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in shared.LINES.getvalue().splitlines() if line.strip()]


def test_each_invocation_logs_under_its_own_functions_service_even_concurrently(
    logging_functions: tuple[Any, list[FunctionSpec]],
) -> None:
    shared, specs = logging_functions
    registry = FunctionRegistry(specs)
    services = {spec.name: spec.environment["POWERTOOLS_SERVICE_NAME"] for spec in specs}

    # One after the other: each function's lines carry its own service name
    for n, spec in enumerate(reversed(specs)):
        answer = registry.invoke(spec.logical_id, {"n": n, "id": f"seq-{n}", "sleep": 0})
        assert answer == {"metrics_service": services[spec.name]}
    # And at the same moment: three invocations of each, their pauses overlapping
    events = [(specs[n % 2].logical_id, {"n": 10 + n, "id": f"conc-{10 + n}"}) for n in range(6)]
    start = threading.Barrier(len(events))

    def one(call: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        start.wait()
        answer: dict[str, Any] = registry.invoke(*call)
        return answer

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        answers = list(pool.map(one, events))

    invoked = {
        event["n"]: specs[0 if logical_id == "AlphaFunction" else 1].name for logical_id, event in events
    }
    invoked |= {0: specs[1].name, 1: specs[0].name}
    assert [a["metrics_service"] for a in answers] == [services[invoked[e["n"]]] for _, e in events]
    lines = log_lines(shared)
    assert len(lines) == 2 * len(invoked)  # started and finished, for every invocation
    for line in lines:
        function = invoked[line["n"]]
        # Then every line names the function that wrote it, its service and its own request
        assert line["service"] == services[function], line
        assert line["function_name"] == function, line
        assert line["correlation_id"] in (f"seq-{line['n']}", f"conc-{line['n']}"), line
    assert {line["service"] for line in lines} == set(services.values())
    # And outside an invocation the logger is as the import made it: the first function's service,
    # no invocation's keys left behind
    shared.logger.info("between invocations")
    after = log_lines(shared)[-1]
    assert after["service"] == services[specs[0].name]
    assert "function_name" not in after and "correlation_id" not in after


# ------------------------------------------------------------------------------ moto
@pytest.fixture
def moto_dynamodb() -> Iterator[Any]:
    server = MotoServer()
    url = server.start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(
            TableName="atomicity",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
        client.delete_table(TableName="atomicity")
    finally:
        server.stop()


def test_moto_applies_concurrent_conditional_transactions_atomically(moto_dynamodb: Any) -> None:
    # Given a table with some items (moto copies the table in each transaction: that takes a while)
    for n in range(300):
        moto_dynamodb.put_item(
            TableName="atomicity", Item={"PK": {"S": f"OTHER#{n}"}, "pad": {"S": "x" * 100}}
        )
    # When 40 clients each hold one place of a capacity-3 counter and write a record with it
    capacity, clients = 3, 40
    start = threading.Barrier(clients)
    codes: list[str] = []

    def hold(n: int) -> bool:
        start.wait()
        try:
            moto_dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "atomicity",
                            "Key": {"PK": {"S": "SLOT"}},
                            "UpdateExpression": "ADD used :one",
                            "ConditionExpression": "attribute_not_exists(used) OR used < :cap",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":cap": {"N": str(capacity)}},
                        }
                    },
                    {"Put": {"TableName": "atomicity", "Item": {"PK": {"S": f"HOLDER#{n}"}}}},
                ]
            )
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
            return False
        return True

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns very often: any unguarded check-then-write shows
    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            held = list(pool.map(hold, range(clients)))
    finally:
        sys.setswitchinterval(switch_interval)

    # Then exactly `capacity` succeeded, and the counter agrees with the records written
    assert sum(held) == capacity
    assert set(codes) == {"TransactionCanceledException"}
    slot = moto_dynamodb.get_item(TableName="atomicity", Key={"PK": {"S": "SLOT"}})["Item"]
    assert slot["used"] == {"N": str(capacity)}
    items = moto_dynamodb.scan(TableName="atomicity")["Items"]
    assert sum(item["PK"]["S"].startswith("HOLDER#") for item in items) == capacity


# ------------------------------------------------------------------------------ moto's memory
@pytest.fixture
def streamed_table(moto_dynamodb: Any) -> Iterator[str]:
    """A table with a stream (as the domain table has) and 300 items in it; its name."""
    moto_dynamodb.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for n in range(300):
        moto_dynamodb.put_item(TableName="streamed", Item={"PK": {"S": f"OLD#{n}"}, "pad": {"S": "x" * 100}})
    yield "streamed"
    moto_dynamodb.delete_table(TableName="streamed")


def stream_records(moto_dynamodb: Any, table: str) -> list[dict[str, Any]]:
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=moto_dynamodb.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn = moto_dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)[
        "Records"
    ]
    return records


def put(table: str, key: str, condition: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"TableName": table, "Item": {"PK": {"S": key}, "pad": {"S": "y" * 100}}}
    if condition:
        item["ConditionExpression"] = condition
    return {"Put": item}


def test_transactions_keep_no_copies_of_the_table(moto_dynamodb: Any, streamed_table: str) -> None:
    # moto copies a table in every transaction (to roll back a failed one): a long-running local
    # stack must not keep those copies (it grew to 23 GB in a session of e2e runs)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(30):
            moto_dynamodb.transact_write_items(TransactItems=[put(streamed_table, f"NEW#{n}")])
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 30 items and their stream records take well under 1 MB; 30 kept copies of 300 items, ~30 MB
    assert grown < 3_000_000, f"{grown / 1e6:.1f} MB kept after 30 transactions"


def test_a_failed_transaction_leaves_the_stream_as_it_was(moto_dynamodb: Any, streamed_table: str) -> None:
    moto_dynamodb.transact_write_items(TransactItems=[put(streamed_table, "FIRST")])
    before = stream_records(moto_dynamodb, streamed_table)
    # A transaction whose first item is written before its second fails its condition
    with pytest.raises(ClientError) as refused:
        moto_dynamodb.transact_write_items(
            TransactItems=[
                put(streamed_table, "ROLLED-BACK"),
                put(streamed_table, "FIRST", condition="attribute_not_exists(PK)"),
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert stream_records(moto_dynamodb, streamed_table) == before
    assert "Item" not in moto_dynamodb.get_item(TableName=streamed_table, Key={"PK": {"S": "ROLLED-BACK"}})
    # The next write's record follows on, with the next sequence number
    moto_dynamodb.transact_write_items(TransactItems=[put(streamed_table, "NEXT")])
    after = stream_records(moto_dynamodb, streamed_table)
    assert after[:-1] == before and after[-1]["dynamodb"]["Keys"] == {"PK": {"S": "NEXT"}}
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in after]
    assert sequence == sorted(set(sequence))
