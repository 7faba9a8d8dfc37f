"""The embedded AWS: moto's server in this process, the environment that points at it, clients.

Every client made here names the moto endpoint explicitly, so the local stack can never reach AWS
even if the environment is changed behind its back.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# Variables that would send clients elsewhere or make them fail before reaching moto.
_UNSET = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
)  # fmt: skip


_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Make moto's DynamoDB handle one request at a time, as real DynamoDB is atomic per request.

    moto's server serves requests on concurrent threads, and its DynamoDB backend has no lock: a
    TransactWriteItems (or a conditional write) checks its conditions, then writes, and another
    request can interleave in between, so two holds could both see ``used < capacity``. Every
    DynamoDB and DynamoDB Streams request runs under one process-wide lock instead (idempotent).
    """
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        action = handler.call_action
        if getattr(action, "_bookbay_serialized", False):
            continue

        def serialized(self: Any, _action: Any = action) -> Any:
            with _DYNAMODB_LOCK:
                return _action(self)

        serialized._bookbay_serialized = True  # type: ignore[attr-defined]
        handler.call_action = serialized


def keep_streams_across_rollbacks() -> None:
    """Make a failed TransactWriteItems leave the table's stream as it was, as DynamoDB does.

    moto applies a transaction's items one by one (each adding its stream record) and, when one
    fails, puts back a deep copy of every table it touched, stream shard included. A stream
    reader's iterator holds the old shard object, though: it would read the records of writes that
    never happened, then nothing more, while the copy hands out their sequence numbers again.
    Instead the live shard stays, cut back to the records it had (requests are serialized above,
    so no reader sees it in between). Idempotent.
    """
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_bookbay_keeps_streams", False):
        return

    @functools.wraps(original)  # keeps the markers of the patches under it (idempotent together)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                del shard.items[length:]  # the records of writes that were rolled back
                restored = self.tables.get(name)
                if restored is not None:
                    shard.table = restored
                    restored.stream_shard = shard
            raise

    transact_write_items._bookbay_keeps_streams = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items


_JOURNALING = threading.local()  # .tables: the ids of the tables this thread's transaction journals


def journal_transactions() -> None:
    """Make a TransactWriteItems roll back by the items it names, not a deep copy of each table.

    moto backs up every table a transaction touches with ``copy.deepcopy`` before applying its
    items one by one, and puts the copies back when one fails: each transaction cost time in
    proportion to the table (a booking on the local stack took 130 ms at first, 200 ms after 60
    bookings, seconds after a few hundred). Instead, before moto's own code runs, the item at each
    key the transaction names (a Put's item's key, the others' ``Key``) is saved, or its absence,
    and a table with every key saved is its own copy for moto's backup (``Table.__deepcopy__``
    returns it, for this thread only); when the transaction fails, those items are put back as
    they were (and absent ones removed), without stream records. Everything else is moto's: the
    condition checks and their CancellationReasons (``ReturnValuesOnConditionCheckFailure``
    included), validation, and ``keep_streams_across_rollbacks`` cutting the stream back. A
    transaction with a key that cannot be read this way (moto then refuses it) keeps moto's full
    copies. The indexes are no state of their own in moto (queries read the table's items), so
    they follow. Idempotent; tests/integration/test_local_transactions.py fails if a moto upgrade
    copies the table again or the rollback misses anything.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_bookbay_journaled", False):
        return

    @functools.wraps(original)  # keeps keep_streams_across_rollbacks's marker
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal = _journal(self.tables, transact_items)
        if journal is None:  # a key moto will refuse: its own copies, as before
            original(self, transact_items)
            return
        _JOURNALING.tables = {id(table) for table, *_ in journal}
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, had_hash, before in journal:
                _restore(table, hash_key, range_key, had_hash, before)
            raise
        finally:
            _JOURNALING.tables = set()

    def __deepcopy__(self: Table, memo: dict[int, Any]) -> Table:
        if id(self) in getattr(_JOURNALING, "tables", ()):
            return self  # journaled: moto's backup is the live table
        clone = copy.copy(self)  # as copy.deepcopy does: a new instance, then its state copied
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone

    transact_write_items._bookbay_journaled = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items
    Table.__deepcopy__ = __deepcopy__


# (table, hash key, range key or None, whether the hash key had items, the item before or None)
_Saved = tuple[Any, Any, Any, bool, Any]


def _journal(tables: Mapping[str, Any], transact_items: list[dict[str, Any]]) -> list[_Saved] | None:
    """The item before the transaction at each key it names (None: absent); None when a key
    cannot be read (a missing or mistyped key attribute, a malformed operation)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[_Saved] = []
    try:
        for entry in transact_items:
            for op_type, op in entry.items():
                table = tables.get(op.get("TableName"))
                if table is None:
                    continue  # moto refuses it; nothing of it to put back
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                had_hash = hash_key in table.items
                if range_key is None:
                    before = table.items.get(hash_key)
                else:
                    before = table.items[hash_key].get(range_key) if had_hash else None
                saved.append((table, hash_key, range_key, had_hash, copy.deepcopy(before)))
    except Exception:
        return None
    return saved


def _restore(table: Any, hash_key: Any, range_key: Any, had_hash: bool, before: Any) -> None:
    """Put ``before`` back at its key (None: remove what is there), as it was, with no stream record."""
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
        return
    if before is not None:
        table.items[hash_key][range_key] = before
        return
    under = table.items.get(hash_key)
    if under is not None:
        under.pop(range_key, None)
        if not under and not had_hash:
            del table.items[hash_key]


_QUERYING = threading.local()  # .partition: (table, hash key) of this thread's query of a table


def query_partitions_only() -> None:
    """Make a Query of a table read the items of its partition, not every item of the table.

    moto's ``Table.query`` starts from ``all_items()`` (every item, sorted by key) and keeps those
    whose hash key is the one asked for: each Query cost time in proportion to the table (the
    booking function's catalog query, ``PK=SHOP``, was most of a booking's time after a few
    hundred bookings). While a query of the table itself (not of an index) runs, ``all_items()``
    hands it the items stored under its hash key instead (moto keeps a table's items by hash key,
    its keys hash as they compare); moto still filters them by that key and does all the rest
    (the key condition, sorting, paging, Limit, filters, projections). Index queries and scans are
    moto's as they were. Idempotent; tests/integration/test_local_transactions.py checks a query
    reads only its partition and answers as before.
    """
    import inspect

    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    if getattr(original_query, "_bookbay_partitions", False):
        return
    signature = inspect.signature(original_query)
    if not {"hash_key", "index_name"} <= signature.parameters.keys():
        raise RuntimeError(
            f"moto's Table.query{signature} changed: see bookbay_local.aws.query_partitions_only"
        )

    @functools.wraps(original_query)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        hash_key = bound.get("hash_key")
        narrowed = hash_key is not None and bound.get("index_name") is None
        outer = getattr(_QUERYING, "partition", None)
        _QUERYING.partition = (self, hash_key) if narrowed else None
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _QUERYING.partition = outer

    @functools.wraps(original_all_items)
    def all_items(self: Table) -> list[Any]:
        partition = getattr(_QUERYING, "partition", None)
        if partition is None or partition[0] is not self:
            everything: list[Any] = original_all_items(self)
            return everything
        stored = self.items.get(partition[1])  # (items is a defaultdict: no [] here)
        if stored is None:
            return []
        return sorted(stored.values(), key=lambda item: item.range_key) if self.range_key_attr else [stored]

    query._bookbay_partitions = True  # type: ignore[attr-defined]
    Table.query, Table.all_items = query, all_items


class _Untracked(list[Any]):
    """An ``instances_tracked`` list that keeps nothing."""

    def append(self, item: Any) -> None:
        return None


def keep_dynamodb_memory_bounded() -> None:
    """Stop moto's DynamoDB from keeping every copy it ever made, so a long-running stack stays small.

    moto records every instance of its model classes in a class-wide ``instances_tracked`` list
    (for its own dashboard and resets, which the local stack does not use), and every
    TransactWriteItems deep-copies each table it touches (to roll back a failed one): every item
    copy was kept for good. A session of e2e runs on one stack grew to 23 GB and bookings slowed
    from about 0.1 s to seconds. Here the DynamoDB classes track nothing, and a table's stream
    shard is shared by its copies instead of copied with all its records
    (``keep_streams_across_rollbacks`` cuts it back after a rollback). Idempotent.
    """
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models.table import StreamShard

    pending: list[type] = [BaseModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(("moto.dynamodb.", "moto.dynamodbstreams.")):
            cls.instances_tracked = _Untracked()  # type: ignore[attr-defined]

    def shared(self: StreamShard, memo: dict[int, Any]) -> StreamShard:
        return self

    StreamShard.__deepcopy__ = shared


class MotoServer:
    """moto's server on a thread of this process (its backends are this process's moto backends)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._started = False
        self.url = ""

    def start(self) -> str:
        # werkzeug logs every request moto serves; the gateway keeps its own access log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        serialize_dynamodb_requests()
        keep_streams_across_rollbacks()
        journal_transactions()
        query_partitions_only()
        keep_dynamodb_memory_bounded()
        self._server.start()
        self._started = True
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False


class Environ:
    """Changes to ``os.environ`` that can be undone (the stack restores the caller's environment)."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def set(self, values: Mapping[str, str]) -> None:
        with self._lock:
            for key, value in values.items():
                self._saved.setdefault(key, os.environ.get(key))
                os.environ[key] = value

    def unset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                if key in os.environ:
                    self._saved.setdefault(key, os.environ.get(key))
                    del os.environ[key]

    def restore(self) -> None:
        with self._lock:
            for key, value in self._saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved.clear()


def local_aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What boto3 and PynamoDB need to use moto (both honour AWS_ENDPOINT_URL)."""
    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def point_environment_at(environ: Environ, endpoint_url: str, region: str) -> None:
    environ.unset(*_UNSET)
    environ.set(local_aws_environment(endpoint_url, region))


class AwsClients:
    """boto3 clients on the moto endpoint (thread-safe once made; made on first use, under a lock)."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service, endpoint_url=self.endpoint_url)
            return self._clients[service]


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` for the duration (callers serialize; see functions.py)."""
    environ = Environ()
    environ.set(values)
    try:
        yield
    finally:
        environ.restore()
