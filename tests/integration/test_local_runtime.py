"""The local stack's runtime in process (LocalStack and its parts) on moto: resources from the
template, the gateway's events, the stream reader, the scheduler and the message log."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from bookbay_local.auth import AUDIENCE, ISSUER, TokenIssuer
from bookbay_local.functions import FunctionError, FunctionRegistry, FunctionSpec
from bookbay_local.gateway import LocalGateway, read_api
from bookbay_local.intrinsics import Resolver
from bookbay_local.server import LocalHttpServer
from bookbay_local.stack import LocalStack
from bookbay_local.streams import StreamMapping, StreamReader, mappings_from_template
from bookbay_local.template import load_template
from bookbay_local.web import HttpRequest, HttpResponse

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
SENDER = "bookings@demo.bookbay.local"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(
        port=0,
        scheduler_interval=3600,  # the tests drive the scheduler; the clock must not fire meanwhile
        stream_poll_interval=0.05,
        stream_backoff=(0.01, 0.05),
        log=None,
    )
    with local:
        yield local


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=20) as client:
        yield client


@pytest.fixture
def clean_outbox(http: httpx.Client) -> None:
    assert http.delete("/_local/messages").status_code == 200


def table_name(stack: LocalStack) -> str:
    return stack.provisioned.tables["BookbayTable"]


def queue_arn(stack: LocalStack, logical_id: str) -> str:
    return str(stack.resolver.get_att(logical_id, "Arn"))


def drain_queue(stack: LocalStack, logical_id: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    url = stack.provisioned.queues[logical_id]
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# ------------------------------------------------------------------------------------ resources
def test_every_table_matches_the_template(stack: LocalStack) -> None:
    dynamodb = stack.client("dynamodb")
    tables = TEMPLATE.resources_of_type("AWS::DynamoDB::Table")
    assert set(stack.provisioned.tables) == set(tables)
    for logical_id in tables:
        declared = TEMPLATE.properties(logical_id)
        name = stack.provisioned.tables[logical_id]
        actual = dynamodb.describe_table(TableName=name)["Table"]
        assert actual["KeySchema"] == declared["KeySchema"]
        assert sorted(actual["AttributeDefinitions"], key=str) == sorted(
            declared["AttributeDefinitions"], key=str
        )
        assert actual["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
        wanted_indexes = {
            i["IndexName"]: (i["KeySchema"], i["Projection"])
            for i in declared.get("GlobalSecondaryIndexes", [])
        }
        actual_indexes = {
            i["IndexName"]: (i["KeySchema"], i["Projection"])
            for i in actual.get("GlobalSecondaryIndexes", [])
        }
        assert actual_indexes == wanted_indexes
        if "StreamSpecification" in declared:
            assert actual["StreamSpecification"] == {
                "StreamEnabled": True,
                "StreamViewType": declared["StreamSpecification"]["StreamViewType"],
            }
            assert stack.resolver.get_att(logical_id, "StreamArn") == actual["LatestStreamArn"]
        else:
            assert "StreamSpecification" not in actual or not actual["StreamSpecification"]["StreamEnabled"]
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]


def test_queues_secret_schedule_group_and_sender_identity_exist(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    for logical_id in TEMPLATE.resources_of_type("AWS::SQS::Queue"):
        url = stack.provisioned.queues[logical_id]
        retention = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])
        declared = TEMPLATE.properties(logical_id)["MessageRetentionPeriod"]
        assert retention["Attributes"]["MessageRetentionPeriod"] == str(declared)
    secret_arn = stack.resolver.ref("SigningKeySecret")
    value = stack.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    assert len(value) == 64 and value.isalnum()
    groups = [g["Name"] for g in stack.client("scheduler").list_schedule_groups()["ScheduleGroups"]]
    assert "bookbay-local-schedules" in groups
    assert SENDER in stack.client("ses").list_identities()["Identities"]


def test_functions_get_the_template_environment_resolved_locally(stack: LocalStack) -> None:
    env = stack.functions.get("OutboxSenderFunction").environment
    assert env["TABLE_NAME"] == table_name(stack)
    assert env["SHOP_NAME"] == "Bookbay Demo Auto"
    assert env["ENVIRONMENT"] == "dev"
    assert env["SENDER_EMAIL"] == SENDER
    assert env["POWERTOOLS_SERVICE_NAME"] == "outbox-sender"
    assert env["SCHEDULE_GROUP"] == "bookbay-local-schedules"
    assert env["SCHEDULER_DLQ_ARN"] == queue_arn(stack, "SchedulerDeadLetterQueue")
    assert env["CATALOG_CACHE_SECONDS"] == "0"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert stack.functions.get("AdminSettingsFunction").environment["STAFF_GROUP"] == "staff"
    assert stack.load_errors == {}


def test_the_functions_links_point_at_the_local_gateway(stack: LocalStack) -> None:
    # PublicBaseUrl is a deploy-time parameter: locally, the gateway's own URL; never a setting.
    for spec in stack.functions.specs:
        assert spec.environment["PUBLIC_BASE_URL"] == stack.base_url, spec.logical_id
    answer = stack.invoke("AdminSettingsFunction", admin_event(stack))
    assert answer["statusCode"] == 200
    assert "public_base_url" not in json.loads(answer["body"])["settings"]


def admin_event(stack: LocalStack) -> dict[str, Any]:
    """A GET /v1/admin/settings event as the gateway builds it, with a staff token's claims."""
    captured: list[dict[str, Any]] = []

    def capture(event: dict[str, Any], _: Any) -> dict[str, Any]:
        captured.append(event)
        return {"statusCode": 204}

    registry = FunctionRegistry([])
    registry.register("AdminSettingsFunction", capture)
    gateway = LocalGateway(read_api(stack.resolver), registry, stack.tokens)
    token = stack.tokens.issue("staff-1", "staff@example.com", ["staff"])
    gateway.dispatch(HttpRequest("GET", "/v1/admin/settings", headers=[("Authorization", f"Bearer {token}")]))
    return captured[0]


def test_intrinsics_resolve_to_local_values(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        """
Parameters:
  Stage: {Type: String, AllowedValues: [dev, prod], Default: prod}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  NotDev: !Not [!Condition IsDev]
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub "${AWS::StackName}-data"}}
  Queue: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          A: !Sub ["${Prefix}/${Table}/${!Literal}", {Prefix: !If [IsDev, d, p]}]
          B: !GetAtt Queue.Arn
          C: !Join ["+", [!Select [1, !Ref Names], !Select [0, !Split ["/", "x/y"]]]]
          D: !If [NotDev, prod-only, !Ref AWS::NoValue]
          E: !If [IsDev, dev-only, !Ref AWS::NoValue]
          F: !Sub "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Fn}"
"""
    )
    resolver = Resolver(load_template(tmp_path / "template.yaml"), parameter_overrides={"Stage": "dev"})
    env = resolver.resolve(resolver.template.properties("Fn")["Environment"]["Variables"])
    assert env == {
        "A": "d/bookbay-local-data/${Literal}",
        "B": "arn:aws:sqs:us-east-1:123456789012:bookbay-local-Queue",
        "C": "b+x",
        "E": "dev-only",
        "F": "arn:aws:lambda:us-east-1:123456789012:function:bookbay-local-Fn",
    }
    assert resolver.ref("Queue") == "https://sqs.us-east-1.amazonaws.com/123456789012/bookbay-local-Queue"
    assert resolver.parameter("Names") == ["a", "b"]


def test_a_function_is_imported_by_path_with_its_environment_applied(tmp_path: Path) -> None:
    # Given two functions whose modules are both app.py and read their config at import
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(
            "import os\nCONFIG = os.environ['FUNCTION_LABEL']\n"
            "def handler(event, context):\n"
            "    return {'label': CONFIG, 'event': event, 'function': context.function_name}\n"
        )
    specs = [
        FunctionSpec(
            logical_id=f"{name.title()}Function",
            name=f"local-{name}",
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:local-{name}",
            handler="app.handler",
            code_dir=tmp_path / name,
            environment={"FUNCTION_LABEL": name},
        )
        for name in ("one", "two")
    ]
    registry = FunctionRegistry(specs)
    assert registry.load_all() == {}
    # Then each saw its own environment, and the process's is as it was
    assert registry.invoke("OneFunction", {"n": 1}) == {
        "label": "one",
        "event": {"n": 1},
        "function": "local-one",
    }
    assert registry.invoke("TwoFunction", {})["label"] == "two"
    assert "FUNCTION_LABEL" not in os.environ
    assert registry.by_arn(specs[1].arn + ":live") == specs[1]


def test_a_function_that_cannot_load_is_reported_and_answers_502(stack: LocalStack, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("raise RuntimeError('no config')\n")
    broken = FunctionSpec(
        logical_id="CatalogFunction",
        name="broken",
        arn="arn:aws:lambda:us-east-1:123456789012:function:broken",
        handler="app.lambda_handler",
        code_dir=tmp_path,
        environment={},
    )
    registry = FunctionRegistry([broken])
    assert registry.load_all() == {"CatalogFunction": "RuntimeError: no config"}
    with pytest.raises(FunctionError, match="cannot be loaded"):
        registry.invoke("CatalogFunction", {})
    response = LocalGateway(read_api(stack.resolver), registry, stack.tokens).dispatch(
        HttpRequest("GET", "/v1/shop")
    )
    assert response.status == 502


# ------------------------------------------------------------------------------------ gateway events
@pytest.fixture(scope="module")
def echo(stack: LocalStack) -> LocalGateway:
    """The template's routes, each answered by a handler that returns the event it got."""

    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
            "body": json.dumps(event),
        }

    registry = FunctionRegistry([])
    for logical_id in TEMPLATE.resources_of_type("AWS::Serverless::Function"):
        registry.register(logical_id, handler)
    return LocalGateway(read_api(stack.resolver), registry, stack.tokens)


def test_the_access_log_names_each_route_by_its_template_never_a_token(echo: LocalGateway) -> None:
    """Link tokens are path segments (/c/<token>, /s/<token>) and query values (/book?src=<token>):
    the stack's access log names the route template, as API Gateway's $context.resourcePath, and
    leaves the query string out (issue 14, item 7)."""
    token, staff_token, source_token = (
        "Ck9dT0kEN-customer-0123456789",
        "Sx7fT0kEN-staff-987654",
        "SRCt0ken42abc",
    )
    log = io.StringIO()
    server = LocalHttpServer("127.0.0.1", 0, log=log)
    server.attach(echo, lambda request: HttpResponse(404, served_by="local"))
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=20) as client:
            assert client.get(f"/c/{token}", params={"utm": source_token}).status_code == 200
            client.post(f"/s/{staff_token}/confirm")
            client.get("/book", params={"src": source_token})
            assert client.get(f"/no/such/route/{token}").status_code == 404
    finally:
        server.stop()
    lines = log.getvalue().splitlines()
    assert [line.split(" -> ")[0] for line in lines] == [
        "[gateway] GET /c/{token}",
        "[gateway] POST /s/{token}/confirm",
        "[gateway] GET /book",
        "[gateway] GET (no route)",
    ]
    assert lines[0].endswith("(CustomerLinksFunction, " + lines[0].rsplit(", ", 1)[1])
    for secret in (token, staff_token, source_token, "utm", "src="):
        assert secret not in log.getvalue()


def test_a_request_becomes_a_rest_proxy_event(echo: LocalGateway) -> None:
    response = echo.dispatch(
        HttpRequest(
            "GET",
            "/v1/locations/austin%20downtown",
            query="near=78701&tag=a&tag=b",
            headers=[("Host", "127.0.0.1:3000"), ("X-Multi", "1"), ("X-Multi", "2")],
            client_ip="127.0.0.9",
        )
    )
    assert response.status == 200 and response.served_by == "CatalogFunction"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-Echo") == "yes"
    event = json.loads(response.body)
    assert event["resource"] == "/v1/locations/{location_id}"
    assert event["path"] == "/v1/locations/austin%20downtown"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"location_id": "austin downtown"}
    assert event["queryStringParameters"] == {"near": "78701", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"near": ["78701"], "tag": ["a", "b"]}
    assert event["headers"]["X-Multi"] == "2" and event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    context = event["requestContext"]
    assert context["resourcePath"] == "/v1/locations/{location_id}"
    assert context["stage"] == "dev" and context["path"] == "/v1/locations/austin%20downtown"
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["requestId"] and "authorizer" not in context
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_bodies_pass_as_text_or_base64(echo: LocalGateway, stack: LocalStack) -> None:
    token = stack.tokens.issue("s", None, ["staff"])
    auth = ("Authorization", token)  # the raw token, without "Bearer ", is accepted too
    text = json.loads(
        echo.dispatch(
            HttpRequest("PATCH", "/v1/admin/settings", headers=[auth], body=b'{"a": "\xc3\xa9"}')
        ).body
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)
    raw = b"\xff\xfe\x00binary"
    binary = json.loads(
        echo.dispatch(HttpRequest("PATCH", "/v1/admin/settings", headers=[auth], body=raw)).body
    )
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == raw


def test_the_authorizer_stand_in_passes_cognito_style_claims(echo: LocalGateway, stack: LocalStack) -> None:
    token = stack.tokens.issue("user-7", "pat@example.com", ["staff", "managers"])
    event = json.loads(
        echo.dispatch(
            HttpRequest("GET", "/v1/admin/settings", headers=[("Authorization", f"Bearer {token}")])
        ).body
    )
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["sub"] == "user-7" and claims["email"] == "pat@example.com"
    assert claims["cognito:groups"] == "staff,managers" and claims["token_use"] == "id"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not.a.jwt", "expired", "foreign"],
)
def test_admin_routes_refuse_missing_invalid_and_expired_tokens(
    echo: LocalGateway, stack: LocalStack, authorization: str | None
) -> None:
    now = int(time.time())
    claims = {"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "iat": now - 7200, "exp": now - 3600}
    if authorization == "expired":  # signed right, but an hour past its expiry
        authorization = "Bearer " + jwt.encode(claims, stack.tokens._secret, algorithm="HS256")
    elif authorization == "foreign":  # well-formed, unexpired, signed by another key
        authorization = "Bearer " + TokenIssuer().issue("u", None, ["staff"])
    headers = [("Authorization", authorization)] if authorization else []
    response = echo.dispatch(HttpRequest("GET", "/v1/admin/settings", headers=headers))
    assert response.status == 401 and response.served_by == "gateway"
    assert json.loads(response.body)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing"),
        ("POST", "/v1/shop"),
        ("GET", "/"),
        ("GET", "/v1/locations/a/b"),
        ("GET", "/V1/shop"),
    ],
)
def test_no_route_answers_the_templates_missing_token_response(
    echo: LocalGateway, method: str, path: str
) -> None:
    response = echo.dispatch(HttpRequest(method, path))
    declared = TEMPLATE.properties("BookbayApi")["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response.status == int(declared["StatusCode"])
    assert json.loads(response.body) == json.loads(declared["ResponseTemplates"]["application/json"])


def test_a_body_over_10_mb_answers_request_too_large(echo: LocalGateway) -> None:
    response = echo.dispatch(HttpRequest("PATCH", "/v1/admin/settings", body=b"x" * (10 * 1024 * 1024 + 1)))
    assert response.status == 413
    assert json.loads(response.body)["error"]["code"] == "request_too_large"


def test_a_failing_or_malformed_handler_answers_502(stack: LocalStack) -> None:
    registry = FunctionRegistry([])
    registry.register("CatalogFunction", lambda event, _: 1 / 0)
    registry.register("DocsFunction", lambda event, _: {"statusCode": "teapot"})
    gateway = LocalGateway(read_api(stack.resolver), registry, stack.tokens)
    for path in ("/v1/shop", "/swagger"):
        response = gateway.dispatch(HttpRequest("GET", path))
        assert response.status == 502
        assert json.loads(response.body)["error"]["code"] == "service_unavailable"


# ------------------------------------------------------------------------------------ streams
def test_the_template_stream_mapping_is_read_as_declared(stack: LocalStack) -> None:
    (mapping,) = mappings_from_template(stack.resolver)
    table = stack.client("dynamodb").describe_table(TableName=table_name(stack))["Table"]
    assert mapping.function_id == "OutboxSenderFunction"
    assert mapping.stream_arn == table["LatestStreamArn"]
    assert (mapping.batch_size, mapping.maximum_retry_attempts, mapping.report_batch_item_failures) == (
        25,
        10,
        True,
    )
    assert mapping.filters == (
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["Outbox", "Effect"]}}}},
    )
    assert mapping.on_failure_arn == queue_arn(stack, "OutboxDeadLetterQueue")


class Recorder:
    """A stream handler that records its batches and fails as told."""

    def __init__(self, fail_items: set[str] | None = None, raise_times: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_items = fail_items or set()
        self.raise_times = raise_times
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], _: Any) -> dict[str, Any]:
        with self.lock:
            self.batches.append(event["Records"])
            if self.raise_times > 0:
                self.raise_times -= 1
                raise RuntimeError("the handler crashed")
        failed = [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"]
            if r["dynamodb"]["NewImage"]["SK"]["S"] in self.fail_items
        ]
        return {"batchItemFailures": failed}

    def item_batches(self) -> list[list[str]]:
        return [[r["dynamodb"]["NewImage"]["SK"]["S"] for r in batch] for batch in self.batches]


@pytest.fixture
def probe(stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """A marker for the test's items in the domain table, and a way to start a reader that delivers
    only those. Tests write first, then start the reader from the stream's start (TRIM_HORIZON):
    the batches are then the same on every run."""
    marker = f"probe-{request.node.name[:40]}-{time.monotonic_ns()}"
    readers: list[StreamReader] = []

    def start(recorder: Recorder, **overrides: Any) -> StreamReader:
        stack.register_function("ProbeFunction", recorder)
        settings: dict[str, Any] = {
            "function_id": "ProbeFunction",
            "stream_arn": stack.resolver.get_att("BookbayTable", "StreamArn"),
            "starting_position": "TRIM_HORIZON",
            "batch_size": 10,
            "maximum_retry_attempts": 2,
            "filters": ({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"PK": {"S": [marker]}}}},),
            "report_batch_item_failures": True,
            "on_failure_arn": queue_arn(stack, "OutboxDeadLetterQueue"),
        }
        reader = StreamReader(
            [StreamMapping(**{**settings, **overrides})],
            stack.functions,
            stack.client("dynamodbstreams"),
            stack.client("sqs"),
            poll_interval=0.05,
            backoff_base=0.01,
            backoff_max=0.05,
        )
        reader.start()
        readers.append(reader)
        return reader

    drain_queue(stack, "OutboxDeadLetterQueue")
    yield marker, start
    for reader in readers:
        reader.stop()


def put_items(stack: LocalStack, marker: str, *sort_keys: str, entity: str = "Probe") -> None:
    """One BatchWriteItem, so the records reach the stream together."""
    stack.client("dynamodb").batch_write_item(
        RequestItems={
            table_name(stack): [
                {"PutRequest": {"Item": {"PK": {"S": marker}, "SK": {"S": sk}, "entity": {"S": entity}}}}
                for sk in sort_keys
            ]
        }
    )


def test_the_stream_reader_delivers_matching_records_as_lambda_does(stack: LocalStack, probe: Any) -> None:
    marker, start = probe
    put_items(stack, marker, "a")
    put_items(stack, f"{marker}-other", "b")  # filtered out: another partition
    stack.client("dynamodb").update_item(  # filtered out: a MODIFY
        TableName=table_name(stack),
        Key={"PK": {"S": marker}, "SK": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    recorder = Recorder()
    reader = start(recorder)
    assert reader.wait_until_drained(10)
    assert recorder.item_batches() == [["a"]]
    record = recorder.batches[0][0]
    assert record["eventName"] == "INSERT" and record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stack.resolver.get_att("BookbayTable", "StreamArn")
    assert record["eventID"]
    assert record["dynamodb"]["Keys"] == {"PK": {"S": marker}, "SK": {"S": "a"}}
    assert record["dynamodb"]["NewImage"] == {"PK": {"S": marker}, "SK": {"S": "a"}, "entity": {"S": "Probe"}}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert record["dynamodb"]["SequenceNumber"].isdigit()
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert drain_queue(stack, "OutboxDeadLetterQueue") == []


def test_a_latest_reader_delivers_only_what_is_written_after_it_started(
    stack: LocalStack, probe: Any
) -> None:
    marker, start = probe
    put_items(stack, marker, "before")
    recorder = Recorder()
    reader = start(recorder, starting_position="LATEST")
    put_items(stack, marker, "after")
    assert reader.wait_until_drained(10)
    assert recorder.item_batches() == [["after"]]


def test_batches_are_at_most_batch_size(stack: LocalStack, probe: Any) -> None:
    marker, start = probe
    put_items(stack, marker, "a", "b", "c", "d", "e")
    recorder = Recorder()
    reader = start(recorder, batch_size=2)
    assert reader.wait_until_drained(10)
    assert recorder.item_batches() == [["a", "b"], ["c", "d"], ["e"]]


def test_failed_items_are_retried_from_the_first_failure_then_dead_lettered(
    stack: LocalStack, probe: Any
) -> None:
    marker, start = probe
    put_items(stack, marker, "a", "b", "c")
    recorder = Recorder(fail_items={"b"})
    reader = start(recorder)  # at most 2 retries
    assert reader.wait_until_drained(10)
    # Given b always fails: the batch, then twice from b on; a is not re-delivered.
    assert recorder.item_batches() == [["a", "b", "c"], ["b", "c"], ["b", "c"]]
    (dead,) = drain_queue(stack, "OutboxDeadLetterQueue")
    assert dead["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dead["requestContext"]["functionArn"] == stack.functions.get("ProbeFunction").arn
    info = dead["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2 and info["streamArn"] == stack.resolver.get_att("BookbayTable", "StreamArn")
    assert [r["dynamodb"]["NewImage"]["SK"]["S"] for r in dead["records"]] == ["b", "c"]
    assert info["startSequenceNumber"] == dead["records"][0]["dynamodb"]["SequenceNumber"]


def test_a_handler_exception_retries_the_whole_batch(stack: LocalStack, probe: Any) -> None:
    marker, start = probe
    put_items(stack, marker, "a", "b")
    recorder = Recorder(raise_times=2)
    reader = start(recorder)
    assert reader.wait_until_drained(10)
    assert recorder.item_batches() == [["a", "b"]] * 3
    assert drain_queue(stack, "OutboxDeadLetterQueue") == []


def test_without_report_batch_item_failures_a_partial_answer_counts_as_success(
    stack: LocalStack, probe: Any
) -> None:
    marker, start = probe
    put_items(stack, marker, "a")
    recorder = Recorder(fail_items={"a"})
    reader = start(recorder, report_batch_item_failures=False)
    assert reader.wait_until_drained(10)
    assert recorder.item_batches() == [["a"]]


# ------------------------------------------------------------------------------------ outbox flow
def test_an_outbox_email_and_sms_reach_the_local_messages(
    stack: LocalStack, http: httpx.Client, clean_outbox: None
) -> None:
    from bookbay.domain.messages import OutboundMessage
    from bookbay.repositories.outbox import OutboxRepository

    repo = OutboxRepository(table_name(stack), stack.region)
    now = datetime.now(UTC)
    repo.enqueue(
        OutboundMessage(
            id="local-runtime-email",
            channel="email",
            to="pat.customer@example.com",
            subject="We received your appointment request",
            text="Hi Pat, manage it at http://127.0.0.1:3000/c/abc?x=1&y=2.",
            html="<p>Hi Pat, <a href='http://127.0.0.1:3000/c/abc'>manage it</a>.</p>",
            created_at=now,
        )
    )
    repo.enqueue(
        OutboundMessage(
            id="local-runtime-sms",
            channel="sms",
            to="+15125550123",
            text="Bookbay: confirmed.",
            created_at=now,
        )
    )
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 20}).json() == {"drained": True}
    messages = http.get("/_local/messages").json()["messages"]
    by_channel = {m["channel"]: m for m in messages}
    assert len(messages) == 2 and set(by_channel) == {"email", "sms"}
    mail = by_channel["email"]
    assert mail["to"] == "pat.customer@example.com"
    assert mail["subject"] == "We received your appointment request"
    assert "manage it at http://127.0.0.1:3000/c/abc?x=1&y=2." in mail["text"]
    assert "<a href='http://127.0.0.1:3000/c/abc'>" in mail["html"]
    assert SENDER in mail["from"]
    assert by_channel["sms"] == {**by_channel["sms"], "to": "+15125550123", "subject": None, "html": None}
    assert by_channel["sms"]["text"] == "Bookbay: confirmed."
    assert all(datetime.fromisoformat(m["sent_at"]).tzinfo is not None for m in messages)
    assert drain_queue(stack, "OutboxDeadLetterQueue") == []


# ------------------------------------------------------------------------------------ messages
def test_raw_mime_and_plain_emails_and_sms_are_read_from_moto(
    stack: LocalStack, http: httpx.Client, clean_outbox: None
) -> None:
    mime = EmailMessage()
    mime["From"] = f"Shop <{SENDER}>"
    mime["To"] = "Pat <pat@example.com>"
    mime["Subject"] = "Your appointment: <Tue> & more"
    mime.set_content("Confirm: https://example.com/c/tok?a=1&b=2 <script>alert(1)</script>")
    mime.add_alternative("<p>Confirm <a href='https://example.com/c/tok'>here</a></p>", subtype="html")
    mime.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar", filename="appointment.ics")
    stack.client("ses").send_raw_email(Source=SENDER, RawMessage={"Data": mime.as_bytes()})
    stack.client("ses").send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["sam@example.com"]},
        Message={"Subject": {"Data": "Plain"}, "Body": {"Text": {"Data": "Just text."}}},
    )
    stack.client("sns").publish(PhoneNumber="+15125550100", Message="Your code is 123456")

    messages = http.get("/_local/messages").json()["messages"]
    assert [(m["channel"], m["to"]) for m in messages] == [
        ("email", "pat@example.com"),
        ("email", "sam@example.com"),
        ("sms", "+15125550100"),
    ]
    raw, plain, sms = messages
    assert raw["subject"] == "Your appointment: <Tue> & more"
    assert raw["text"].startswith("Confirm: https://example.com/c/tok?a=1&b=2")
    assert raw["html"] == "<p>Confirm <a href='https://example.com/c/tok'>here</a></p>\n"
    assert raw["attachments"] == ["appointment.ics"]
    assert (plain["subject"], plain["text"], plain["html"]) == ("Plain", "Just text.", None)
    assert sms["text"] == "Your code is 123456"
    assert messages == http.get("/_local/messages").json()["messages"]  # stable ids, order and times

    page = http.get("/_local/outbox")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert '<a href="https://example.com/c/tok?a=1&amp;b=2">' in page.text
    assert "Your appointment: &lt;Tue&gt; &amp; more" in page.text

    assert http.delete("/_local/messages").json() == {"messages": []}
    assert http.get("/_local/messages").json() == {"messages": []}


# ------------------------------------------------------------------------------------ scheduler
@pytest.fixture
def target(stack: LocalStack) -> tuple[str, list[Any]]:
    """A function that is not in the template, registered by its handler: its ARN and its events."""
    received: list[Any] = []

    def handler(event: Any, _: Any) -> dict[str, bool]:
        received.append(event)
        return {"ok": True}

    return stack.register_function("ScheduledProbe", handler).arn, received


def create_schedule(stack: LocalStack, name: str, at: str, arn: str, **extra: Any) -> str:
    answer = stack.client("scheduler").create_schedule(
        Name=name,
        GroupName="bookbay-local-schedules",
        ScheduleExpression=f"at({at})",
        ScheduleExpressionTimezone="America/Chicago",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": str(stack.resolver.get_att("SchedulerRole", "Arn")),
            "Input": json.dumps(
                {
                    "job": name,
                    "at": "<aws.scheduler.scheduled-time>",
                    "execution": "<aws.scheduler.execution-id>",
                    "attempt": "<aws.scheduler.attempt-number>",
                    "schedule": "<aws.scheduler.schedule-arn>",
                }
            ),
            **extra.pop("target", {}),
        },
        **extra,
    )
    return str(answer["ScheduleArn"])


def schedule_exists(stack: LocalStack, name: str) -> bool:
    scheduler = stack.client("scheduler")
    try:
        scheduler.get_schedule(Name=name, GroupName="bookbay-local-schedules")
    except scheduler.exceptions.ResourceNotFoundException:
        return False
    return True


def test_the_scheduler_fires_due_schedules_once_and_deletes_them(
    stack: LocalStack, http: httpx.Client, target: tuple[str, list[Any]]
) -> None:
    arn, received = target
    due_arn = create_schedule(
        stack, "reminder-due", "2026-11-24T09:00:00", arn, ActionAfterCompletion="DELETE"
    )
    create_schedule(stack, "reminder-later", "2026-11-24T09:00:01", arn, ActionAfterCompletion="DELETE")
    kept_arn = create_schedule(stack, "review-kept", "2026-11-23T08:00:00", arn, ActionAfterCompletion="NONE")
    try:
        # When: the local time 09:00 in Chicago (15:00 UTC) has come
        answer = http.post("/_local/scheduler/run", json={"until": "2026-11-24T09:00:00-06:00"})
        assert answer.status_code == 200
        fired = answer.json()["fired"]
        assert [(f["name"], f["group"], f["target_function"]) for f in fired] == [
            ("review-kept", "bookbay-local-schedules", "ScheduledProbe"),
            ("reminder-due", "bookbay-local-schedules", "ScheduledProbe"),
        ]
        assert [f["scheduled_time"] for f in fired] == ["2026-11-23T14:00:00Z", "2026-11-24T15:00:00Z"]
        assert all(f["result"] == {"ok": True} for f in fired)
        kept, due = received
        assert due["job"] == "reminder-due" and due["at"] == "2026-11-24T15:00:00Z"
        assert due["attempt"] == "1" and due["schedule"] == due_arn and len(due["execution"]) >= 32
        assert kept["schedule"] == kept_arn
        # Then: DELETE removed the fired one, NONE kept it, the one not yet due is untouched
        assert not schedule_exists(stack, "reminder-due")
        assert schedule_exists(stack, "review-kept") and schedule_exists(stack, "reminder-later")
        assert http.post("/_local/scheduler/run", json={"until": "2026-11-24T09:00:00-06:00"}).json() == {
            "fired": [],
            "rules_fired": [],
        }
        assert len(received) == 2
        later = stack.scheduler.run_due(datetime(2026, 11, 24, 15, 0, 1, tzinfo=UTC))
        assert [f.name for f in later] == ["reminder-later"]
    finally:
        for name in ("reminder-later", "review-kept"):
            if schedule_exists(stack, name):
                stack.client("scheduler").delete_schedule(Name=name, GroupName="bookbay-local-schedules")


def test_a_failed_target_is_reported_and_dead_lettered(stack: LocalStack) -> None:
    drain_queue(stack, "SchedulerDeadLetterQueue")
    missing = "arn:aws:lambda:us-east-1:123456789012:function:not-in-the-template"
    create_schedule(
        stack,
        "orphan",
        "2026-11-23T00:00:00",
        missing,
        ActionAfterCompletion="DELETE",
        target={"DeadLetterConfig": {"Arn": queue_arn(stack, "SchedulerDeadLetterQueue")}},
    )
    (fired,) = stack.scheduler.run_due(datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert fired.target_function is None and fired.error is not None and "not-in-the-template" in fired.error
    assert not schedule_exists(stack, "orphan")
    (dead,) = drain_queue(stack, "SchedulerDeadLetterQueue")
    assert dead["job"] == "orphan" and dead["at"] == "2026-11-23T06:00:00Z"


def test_a_schedule_firing_the_outbox_sender_reaches_its_handler(stack: LocalStack) -> None:
    """The template's own function ARN resolves: the sender's scheduled retry for an unknown id."""
    arn = stack.functions.get("OutboxSenderFunction").arn
    stack.client("scheduler").create_schedule(
        Name="retry-unknown",
        GroupName="bookbay-local-schedules",
        ScheduleExpression="at(2026-11-23T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": "arn:aws:iam::123456789012:role/x",
            "Input": json.dumps(retry_input()),
        },
        ActionAfterCompletion="DELETE",
    )
    (fired,) = stack.scheduler.run_due(datetime.now(UTC) + timedelta(days=1))
    assert fired.target_function == "OutboxSenderFunction" and fired.error is None


def retry_input() -> dict[str, Any]:
    """The sample retry event (its message id is not in this table)."""
    event: dict[str, Any] = json.loads((ROOT / "events" / "outbox_retry.json").read_text())
    return event


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"until": "2026-11-24T09:00:00"}', b'{"until": "tomorrow"}', b'{"until": 5}', b"[]"],
)
def test_scheduler_run_refuses_a_bad_until(http: httpx.Client, body: bytes) -> None:
    response = http.post("/_local/scheduler/run", content=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
