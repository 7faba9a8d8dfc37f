"""The local event-source mappings for DynamoDB streams (what Lambda's poller does in AWS).

For every function event of Type DynamoDB, a thread reads the table's stream through moto's
dynamodbstreams API, keeps the records that match the FilterCriteria, and invokes the function
with batches of at most BatchSize records. A handler exception fails the whole batch; with
ReportBatchItemFailures the batch is re-delivered from its first failed record. Retries back off
and stop after MaximumRetryAttempts (-1 = never); then the failed records are described to the
OnFailure destination (an SQS queue). Not emulated: batching windows, bisecting, parallelization.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from bookbay_local.functions import FunctionRegistry
from bookbay_local.intrinsics import Resolver
from bookbay_local.logs import log_line
from bookbay_local.patterns import matches_any, parse_filters

_READ_LIMIT: Final = 1000


@dataclass(frozen=True)
class StreamMapping:
    function_id: str
    stream_arn: str
    event_name: str = "Stream"
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    maximum_retry_attempts: int = -1
    filters: tuple[dict[str, Any], ...] = ()
    report_batch_item_failures: bool = False
    on_failure_arn: str | None = None


def mappings_from_template(resolver: Resolver) -> list[StreamMapping]:
    """Every enabled ``Type: DynamoDB`` event of the template's functions."""
    template = resolver.template
    mappings: list[StreamMapping] = []
    for function_id in template.resources_of_type("AWS::Serverless::Function"):
        if not resolver.resource_enabled(function_id):
            continue
        for event_name, event in (template.properties(function_id).get("Events") or {}).items():
            if event.get("Type") != "DynamoDB":
                continue
            props = resolver.resolve(event.get("Properties") or {})
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            mappings.append(
                StreamMapping(
                    function_id=function_id,
                    stream_arn=str(props["Stream"]),
                    event_name=event_name,
                    starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                    batch_size=int(props.get("BatchSize", 100)),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    filters=tuple(parse_filters(props.get("FilterCriteria"))),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                    on_failure_arn=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                        "Destination"
                    ),
                )
            )
    return mappings


@dataclass
class _Worker:
    mapping: StreamMapping
    thread: threading.Thread | None = None
    iterators: dict[str, str] = field(default_factory=dict)
    backlog: list[dict[str, Any]] = field(default_factory=list)
    # monotonic time at which a poll that found nothing to do began (see wait_until_drained)
    idle_poll_started: float = float("-inf")


class StreamReader:
    def __init__(
        self,
        mappings: Sequence[StreamMapping],
        functions: FunctionRegistry,
        streams_client: Any,
        sqs_client: Any,
        *,
        poll_interval: float = 0.25,
        backoff_base: float = 0.25,
        backoff_max: float = 4.0,
        forget_iterator: Callable[[str], None] | None = None,
        log: TextIO | None = None,
    ) -> None:
        self._workers = [_Worker(m) for m in mappings]
        self._functions = functions
        self._streams = streams_client
        self._sqs = sqs_client
        self._poll_interval = poll_interval
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._forget_iterator = forget_iterator
        self._log = log
        self._stop = threading.Event()

    @property
    def mappings(self) -> list[StreamMapping]:
        return [w.mapping for w in self._workers]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._stop.clear()
        for worker in self._workers:
            self._open(worker)
            worker.thread = threading.Thread(
                target=self._run,
                args=(worker,),
                name=f"bookbay-local-stream-{worker.mapping.function_id}",
                daemon=True,
            )
            worker.thread.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            if worker.thread is not None:
                worker.thread.join(timeout=10)
                worker.thread = None

    def wait_until_drained(self, timeout: float = 10.0) -> bool:
        """True once every record written before the call has been delivered (or dead-lettered)."""
        asked = time.monotonic()
        deadline = asked + timeout
        while True:
            if all(w.idle_poll_started >= asked for w in self._workers):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # ------------------------------------------------------------------ polling
    def _open(self, worker: _Worker) -> None:
        position = worker.mapping.starting_position
        kind = position if position in ("TRIM_HORIZON", "LATEST") else "TRIM_HORIZON"
        described = self._streams.describe_stream(StreamArn=worker.mapping.stream_arn)["StreamDescription"]
        for shard in described.get("Shards", []):
            iterator = self._streams.get_shard_iterator(
                StreamArn=worker.mapping.stream_arn, ShardId=shard["ShardId"], ShardIteratorType=kind
            )["ShardIterator"]
            worker.iterators[shard["ShardId"]] = iterator

    def _run(self, worker: _Worker) -> None:
        while not self._stop.is_set():
            try:
                self._step(worker)
            except Exception:  # keep polling; say what went wrong
                if self._stop.is_set():
                    return
                self._say(f"{worker.mapping.function_id}: stream poll failed:\n{traceback.format_exc()}")
                self._stop.wait(1.0)

    def _step(self, worker: _Worker) -> None:
        started = time.monotonic()
        if not worker.backlog and not self._read(worker):
            worker.idle_poll_started = started
            self._stop.wait(self._poll_interval)
            return
        if worker.backlog:
            batch = worker.backlog[: worker.mapping.batch_size]
            self._deliver(worker.mapping, batch)
            del worker.backlog[: len(batch)]

    def _read(self, worker: _Worker) -> bool:
        """Read new records into the backlog (filtered); False when the stream had nothing new."""
        got_any = False
        for shard_id, iterator in list(worker.iterators.items()):
            answer = self._streams.get_records(ShardIterator=iterator, Limit=_READ_LIMIT)
            if self._forget_iterator is not None:
                self._forget_iterator(iterator)
            worker.iterators[shard_id] = answer["NextShardIterator"]
            for raw in answer.get("Records", []):
                got_any = True
                record = lambda_record(raw, worker.mapping.stream_arn)
                if matches_any(worker.mapping.filters, record):
                    worker.backlog.append(record)
        return got_any

    # ------------------------------------------------------------------ delivering
    def _deliver(self, mapping: StreamMapping, batch: list[dict[str, Any]]) -> None:
        pending = batch
        retries = 0
        while pending and not self._stop.is_set():
            failed_from = self._invoke(mapping, pending)
            if failed_from is None:
                return
            pending = pending[failed_from:]
            retries += 1
            if 0 <= mapping.maximum_retry_attempts < retries:
                self._give_up(mapping, pending, attempts=retries)
                return
            self._stop.wait(min(self._backoff_base * 2 ** (retries - 1), self._backoff_max))

    def _invoke(self, mapping: StreamMapping, records: list[dict[str, Any]]) -> int | None:
        """None when the batch succeeded, else the index of the first record to re-deliver."""
        try:
            result = self._functions.invoke(mapping.function_id, {"Records": records})
        except Exception as exc:  # a failed invocation fails the whole batch
            self._say(f"{mapping.function_id}: batch of {len(records)} failed: {type(exc).__name__}: {exc}")
            return 0
        if not mapping.report_batch_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(i not in sequence_numbers for i in identifiers):
            return 0  # an unknown or empty identifier fails the whole batch, as in Lambda
        return min(sequence_numbers.index(str(i)) for i in identifiers)

    def _give_up(self, mapping: StreamMapping, records: list[dict[str, Any]], *, attempts: int) -> None:
        if not mapping.on_failure_arn:
            self._say(f"{mapping.function_id}: dropping {len(records)} record(s) after {attempts} retries")
            return
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        created = [r["dynamodb"].get("ApproximateCreationDateTime", 0) for r in records]
        document = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._functions.get(mapping.function_id).arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": now,
            "DDBStreamBatchInfo": {
                "shardId": "local",
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(created[0]),
                "approximateArrivalOfLastRecord": _iso(created[-1]),
                "batchSize": len(records),
                "streamArn": mapping.stream_arn,
            },
            # Local only: Lambda sends the batch's coordinates; the records themselves help locally.
            "records": records,
        }
        queue_url = self._sqs.get_queue_url(QueueName=mapping.on_failure_arn.rsplit(":", 1)[-1])["QueueUrl"]
        self._sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(document))
        self._say(
            f"{mapping.function_id}: {len(records)} record(s) sent to {mapping.on_failure_arn} "
            f"after {attempts} retries"
        )

    def _say(self, line: str) -> None:
        if self._log is not None:
            log_line(self._log, f"[streams] {line}")


def lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A dynamodbstreams record as Lambda delivers it (JSON types, eventSourceARN added)."""
    record: dict[str, Any] = _jsonable(raw)
    record["eventSourceARN"] = stream_arn
    record.setdefault("eventSource", "aws:dynamodb")
    return record


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def _iso(epoch: Any) -> str:
    try:
        return datetime.fromtimestamp(float(epoch), UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError):
        return ""
