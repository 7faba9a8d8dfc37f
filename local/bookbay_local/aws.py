"""The embedded AWS: moto's server in this process, the environment that points at it, clients.

Every client made here names the moto endpoint explicitly, so the local stack can never reach AWS
even if the environment is changed behind its back.
"""

from __future__ import annotations

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
