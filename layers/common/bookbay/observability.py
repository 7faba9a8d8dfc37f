"""Powertools logger, tracer and metrics shared by every function (service name from the env).

The tracer's provider: by default a no-op one, so no function imports the X-Ray SDK at cold
start (about 0.2 s of a 0.5 s import, the biggest single cost). Lambda's active tracing
(``Tracing: Active`` in the template) still records every invocation's segment, with its init,
invocation and overhead; what the SDK adds is a subsegment per handler and per AWS call. A shop
that wants those deploys with ``TraceSubsegments=true`` (env ``BOOKBAY_TRACE_SUBSEGMENTS``) and
Powertools' own X-Ray provider is used.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from bookbay import snapstart as _snapstart  # noqa: F401 - registers the SnapStart hooks (every handler imports this)

METRICS_NAMESPACE = "Bookbay"
TRACE_SUBSEGMENTS_ENV = "BOOKBAY_TRACE_SUBSEGMENTS"


class NoSegment(BaseSegment):
    """A subsegment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class LambdaSegmentsOnly(BaseProvider):
    """The tracing provider when only Lambda's own segments are wanted: opens no subsegment and
    patches nothing, so the X-Ray SDK is never imported."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        yield NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def trace_subsegments() -> bool:
    return os.environ.get(TRACE_SUBSEGMENTS_ENV, "false").strip().lower() == "true"


logger = Logger()
# provider=None: Powertools' X-Ray provider (imports aws_xray_sdk.core and patches boto3).
tracer = Tracer(provider=None if trace_subsegments() else LambdaSegmentsOnly())
# Explicit, so the namespace never depends on which function's environment imported this first.
metrics = Metrics(namespace=METRICS_NAMESPACE)
