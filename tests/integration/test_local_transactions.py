"""moto's TransactWriteItems on the local stack (bookbay_local.aws.journal_transactions): it rolls a
failed transaction back by the items it names instead of copying each table, and still keeps
DynamoDB's semantics: each condition checked, the CancellationReasons (an ALL_OLD item included),
all or nothing (every item, every index query and the stream as before a failed one)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from bookbay_local.aws import MotoServer

pytestmark = pytest.mark.integration

TABLE = "journaled"
GSI = ("GSI1", "GSI2")


def credentials() -> dict[str, str]:
    return {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    """A dynamodb and a dynamodbstreams client on a MotoServer with a table like the domain table
    (PK/SK, GSI1 and GSI2, a NEW_AND_OLD_IMAGES stream)."""
    server = MotoServer()
    url = server.start()
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=url, **credentials())
        names = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": f"{index}PK", "KeyType": "HASH"},
                        {"AttributeName": f"{index}SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in GSI
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield dynamodb, boto3.client("dynamodbstreams", endpoint_url=url, **credentials())
        dynamodb.delete_table(TableName=TABLE)
    finally:
        server.stop()


def s(value: str) -> dict[str, str]:
    return {"S": value}


def item(pk: str, sk: str, **attrs: str | dict[str, str]) -> dict[str, Any]:
    """An item's DynamoDB JSON (str values are strings)."""
    typed = {name: s(value) if isinstance(value, str) else value for name, value in attrs.items()}
    return {"PK": s(pk), "SK": s(sk), **typed}


def seed(dynamodb: Any, count: int = 0) -> None:
    """The items the transactions below name, and ``count`` others (as a booking's table holds)."""
    rows = [
        item("SLOT#1", "SLOT", used={"N": "1"}, GSI1PK="LOCATION#a", GSI1SK="2026-01-05T09:00#1"),
        item("APPT#1", "APPT", status="requested", GSI1PK="LOCATION#a", GSI1SK="2026-01-05T09:00#x"),
        item("APPT#2", "APPT", status="requested", GSI2PK="CUSTOMER#c", GSI2SK="APPT#2"),
        item("GONE#1", "GONE", GSI2PK="CUSTOMER#c", GSI2SK="GONE#1"),
        item("FLAG#1", "FLAG", state="active"),
    ] + [
        item(f"OTHER#{n // 10}", f"SK#{n}", GSI1PK=f"LOCATION#{n % 7}", GSI1SK=f"T#{n}", GSI2PK="CUSTOMER#o")
        for n in range(count)
    ]
    for first in range(0, len(rows), 25):
        requests = [{"PutRequest": {"Item": row}} for row in rows[first : first + 25]]
        dynamodb.batch_write_item(RequestItems={TABLE: requests})


def transaction(fail: bool) -> list[dict[str, Any]]:
    """Put (a new item and one over an existing item, moving it between index partitions), Update
    (an existing item, and one that creates its item), Delete, and two ConditionChecks: the flag's
    fails when ``fail`` (4th of 7: moto applies the items after it before rolling back)."""
    key = {"TableName": TABLE}
    return [
        {"Put": {**key, "Item": item("APPT#3", "APPT", GSI1PK="LOCATION#a", GSI1SK="2026-01-05T09:00#3")}},
        {
            "Update": {
                **key,
                "Key": item("SLOT#1", "SLOT"),
                "UpdateExpression": "ADD used :one SET GSI1SK = :moved",
                "ConditionExpression": "used < :cap",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":cap": {"N": "2"}, ":moved": s("moved")},
            }
        },
        {"Put": {**key, "Item": item("APPT#1", "APPT", status="cancelled", GSI2PK="CUSTOMER#c", GSI2SK="A")}},
        {
            "ConditionCheck": {
                **key,
                "Key": item("FLAG#1", "FLAG"),
                "ConditionExpression": "#state = :state",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {":state": s("cleared" if fail else "active")},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {"Delete": {**key, "Key": item("GONE#1", "GONE"), "ConditionExpression": "attribute_exists(PK)"}},
        {
            "Update": {
                **key,
                "Key": item("COUNTER#1", "COUNTER"),
                "UpdateExpression": "SET GSI2PK = :c, GSI2SK = :k",
                "ExpressionAttributeValues": {":c": s("CUSTOMER#c"), ":k": s("COUNTER#1")},
            }
        },
        {
            "ConditionCheck": {
                **key,
                "Key": item("APPT#2", "APPT"),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
    ]


def everything(dynamodb: Any, streams: Any) -> dict[str, Any]:
    """What a reader can see of the table: its items (a scan), each index partition's query
    results (in order) and the stream's records."""
    scan = dynamodb.scan(TableName=TABLE)["Items"]
    partitions = {(index, row[f"{index}PK"]["S"]) for row in scan for index in GSI if f"{index}PK" in row}
    partitions |= {("GSI1", "LOCATION#a"), ("GSI2", "CUSTOMER#c")}
    queries = {
        f"{index} {pk}": dynamodb.query(
            TableName=TABLE,
            IndexName=index,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": f"{index}PK"},
            ExpressionAttributeValues={":pk": s(pk)},
        )["Items"]
        for index, pk in sorted(partitions)
    }
    return {
        "items": sorted(scan, key=lambda row: (row["PK"]["S"], row["SK"]["S"])),
        "queries": queries,
        "stream": stream_records(dynamodb, streams),
    }


def stream_records(dynamodb: Any, streams: Any) -> list[dict[str, Any]]:
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = []
    position = iterator["ShardIterator"]
    while position:
        page = streams.get_records(ShardIterator=position, Limit=1000)
        records += page["Records"]
        position = page.get("NextShardIterator") if page["Records"] else None
    return records


def test_a_failed_transaction_leaves_every_item_index_and_the_stream_as_before(
    clients: tuple[Any, Any],
) -> None:
    dynamodb, streams = clients
    seed(dynamodb, count=40)
    before = everything(dynamodb, streams)

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=transaction(fail=True))

    error = refused.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None"] * 3 + ["ConditionalCheckFailed"] + ["None"] * 3
    assert reasons[3]["Item"] == item("FLAG#1", "FLAG", state="active")  # ReturnValuesOnConditionCheckFailure
    assert everything(dynamodb, streams) == before
    # The next write's stream record follows on, with the next sequence number
    dynamodb.put_item(TableName=TABLE, Item=item("NEXT", "NEXT"))
    after = stream_records(dynamodb, streams)
    assert after[:-1] == before["stream"] and after[-1]["dynamodb"]["Keys"] == item("NEXT", "NEXT")
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in after]
    assert sequence == sorted(set(sequence))


def test_each_failed_condition_is_its_own_reason_and_nothing_is_written(clients: tuple[Any, Any]) -> None:
    dynamodb, streams = clients
    seed(dynamodb)
    before = everything(dynamodb, streams)
    items = transaction(fail=True)
    items[1]["Update"]["ExpressionAttributeValues"][":cap"] = {"N": "1"}  # the slot is full too

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=items)

    reasons = refused.value.response["CancellationReasons"]
    failed = "ConditionalCheckFailed"
    assert [r["Code"] for r in reasons] == ["None", failed, "None", failed, "None", "None", "None"]
    assert "Item" not in reasons[1]  # no ReturnValuesOnConditionCheckFailure asked for it
    assert everything(dynamodb, streams) == before


def test_a_transaction_refused_as_invalid_after_a_write_leaves_everything_as_before(
    clients: tuple[Any, Any],
) -> None:
    dynamodb, streams = clients
    seed(dynamodb)
    before = everything(dynamodb, streams)
    items = transaction(fail=False)
    items.append({"Delete": {"TableName": TABLE, "Key": item("APPT#3", "APPT")}})  # APPT#3 twice

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=items)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert everything(dynamodb, streams) == before


def test_a_transaction_with_a_key_moto_refuses_leaves_everything_as_before(clients: tuple[Any, Any]) -> None:
    # A Put without the range key: the journal cannot name its key, so moto's own copies roll back
    dynamodb, streams = clients
    seed(dynamodb)
    before = everything(dynamodb, streams)
    items = transaction(fail=False)
    items.append({"Put": {"TableName": TABLE, "Item": {"PK": s("NO-SK")}}})

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=items)

    assert everything(dynamodb, streams) == before


def test_a_successful_transaction_applies_every_item(clients: tuple[Any, Any]) -> None:
    dynamodb, streams = clients
    seed(dynamodb)
    before = everything(dynamodb, streams)

    dynamodb.transact_write_items(TransactItems=transaction(fail=False))

    after = everything(dynamodb, streams)
    rows = {(row["PK"]["S"], row["SK"]["S"]): row for row in after["items"]}
    assert rows[("APPT#3", "APPT")]["GSI1SK"] == s("2026-01-05T09:00#3")
    assert rows[("SLOT#1", "SLOT")]["used"] == {"N": "2"} and rows[("SLOT#1", "SLOT")]["GSI1SK"] == s("moved")
    assert rows[("APPT#1", "APPT")]["status"] == s("cancelled") and "GSI1PK" not in rows[("APPT#1", "APPT")]
    assert ("GONE#1", "GONE") not in rows
    assert rows[("COUNTER#1", "COUNTER")]["GSI2SK"] == s("COUNTER#1")
    assert [row["PK"]["S"] for row in after["queries"]["GSI1 LOCATION#a"]] == ["APPT#3", "SLOT#1"]
    assert [row["GSI2SK"]["S"] for row in after["queries"]["GSI2 CUSTOMER#c"]] == ["A", "APPT#2", "COUNTER#1"]
    written = after["stream"][len(before["stream"]) :]
    assert {(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in written} == {
        ("INSERT", "APPT#3"), ("MODIFY", "SLOT#1"), ("MODIFY", "APPT#1"), ("REMOVE", "GONE#1"),
        ("INSERT", "COUNTER#1"),
    }  # fmt: skip


def test_a_transaction_on_a_big_table_copies_only_the_items_it_names(
    clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto deep-copied every table a transaction touched (to roll a failed one back): a booking's
    # time grew with the table. Now it copies the items it names (and update_item its own item).
    dynamodb, _ = clients
    seed(dynamodb, count=5000)
    copied = 0
    original = Item.__deepcopy__

    def counting(self: Item, memo: dict[int, Any]) -> Item:
        nonlocal copied
        copied += 1
        return original(self, memo)

    monkeypatch.setattr(Item, "__deepcopy__", counting)
    seconds = {}
    for fail in (True, False):
        copied = 0
        began = time.perf_counter()
        with pytest.raises(ClientError) if fail else nullcontext():
            dynamodb.transact_write_items(TransactItems=transaction(fail=fail))
        seconds[fail] = time.perf_counter() - began
        assert copied <= 2 * len(transaction(fail=fail)), f"{copied} items copied (fail={fail})"
    # and so it is quick: a copy of 5000 items took about a second
    assert max(seconds.values()) < 0.5, seconds


# ------------------------------------------------------------------------------ queries
def test_a_query_of_the_table_reads_only_its_partition_and_answers_as_before(
    clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto's query started from every item of the table, sorted: a booking's catalog query
    # (PK=SHOP) grew with the table. Now a query of the table reads its partition's items only.
    dynamodb, _ = clients
    seed(dynamodb, count=5000)
    scanned: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        scanned += page["Items"]

    def expected(pk: str, keep: Any = lambda row: True) -> list[dict[str, Any]]:
        return sorted((r for r in scanned if r["PK"]["S"] == pk and keep(r)), key=lambda r: r["SK"]["S"])

    compared = 0
    original = DynamoType.__eq__

    def counting(self: DynamoType, other: DynamoType) -> bool:
        nonlocal compared
        compared += 1
        return bool(original(self, other))

    monkeypatch.setattr(DynamoType, "__eq__", counting)
    query = {"TableName": TABLE, "KeyConditionExpression": "PK = :pk"}
    answer = dynamodb.query(**query, ExpressionAttributeValues={":pk": s("OTHER#7")})
    assert answer["Items"] == expected("OTHER#7")
    assert compared < 500, f"{compared} key comparisons for a 10-item partition of a 5005-item table"

    # Newest first, 3 at a time
    pages: list[list[dict[str, Any]]] = []
    start: dict[str, Any] = {}
    while True:
        page = dynamodb.query(
            **query, ExpressionAttributeValues={":pk": s("OTHER#7")}, ScanIndexForward=False, Limit=3, **start
        )
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [r for p in pages for r in p] == expected("OTHER#7")[::-1]
    # A range condition, a filter, a projection
    ranged = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
        FilterExpression="GSI1PK <> :l",
        ExpressionAttributeValues={
            ":pk": s("OTHER#7"),
            ":a": s("SK#72"),
            ":b": s("SK#77"),
            ":l": s("LOCATION#4"),
        },
        ProjectionExpression="SK",
    )["Items"]
    wanted = expected(
        "OTHER#7", lambda r: "SK#72" <= r["SK"]["S"] <= "SK#77" and r["GSI1PK"]["S"] != "LOCATION#4"
    )
    assert ranged == [{"SK": r["SK"]} for r in wanted] and len(ranged) == 5
    assert dynamodb.query(**query, ExpressionAttributeValues={":pk": s("NO-SUCH")})["Items"] == []
    # An index's query is moto's own (every item with the index key)
    indexed = dynamodb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": s("LOCATION#3")},
    )
    in_index = [r for r in scanned if r.get("GSI1PK") == s("LOCATION#3")]
    assert len(in_index) > 700 and "LastEvaluatedKey" not in indexed
    assert [r["GSI1SK"]["S"] for r in indexed["Items"]] == sorted(r["GSI1SK"]["S"] for r in in_index)
