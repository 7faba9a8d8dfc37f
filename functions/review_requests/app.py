"""Review requests: invoked by a step's one-time EventBridge Scheduler schedule with
``{"review_request": <id>, "step": <n>}``; sends that e-mail if it is still due and schedules the
next step (its target is this function again, by the ARN it was invoked with). The event handling
is in ``bookbay.api.workers.review_requests``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.workers import review_requests
from bookbay.config import ReviewSenderConfig
from bookbay.observability import logger, metrics, tracer

config = ReviewSenderConfig.from_env()
deps = wiring.review_requests(config)  # the dependencies by the ARN this function is invoked with


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, str]:
    return review_requests.handle(event, context, deps, now=partial(datetime.now, UTC))
