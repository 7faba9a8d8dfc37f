"""Review requests: invoked by a step's one-time EventBridge Scheduler schedule with
``{"review_request": <id>, "step": <n>}``; sends that e-mail if it is still due and schedules the
next step (its target is this function again, by the ARN it was invoked with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from bookbay.adapters.scheduler import ScheduleTarget, schedule_input
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.services import review_requests
from bookbay.services.review_requests import ReviewDeps


class ReviewSenderConfig(BaseConfig):
    """Next steps are one-time schedules in SCHEDULE_GROUP run as SCHEDULER_ROLE_ARN (undeliverable
    ones to SCHEDULER_DLQ_ARN)."""

    schedule_group: str = Field(min_length=1)
    scheduler_role_arn: str = Field(min_length=1)
    scheduler_dlq_arn: str | None = None


config = ReviewSenderConfig.from_env()
_target = ScheduleTarget(config.schedule_group, config.scheduler_role_arn, config.scheduler_dlq_arn)
_deps: dict[str, ReviewDeps] = {}  # by the ARN this container is invoked with (one, in practice)


def deps_for(own_arn: str) -> ReviewDeps:
    if own_arn not in _deps:
        _deps[own_arn] = ReviewDeps.build(
            table_name=config.table_name,
            region=config.region,
            schedule_target=_target,
            target_arn=own_arn,
            public_base_url=config.public_base_url,
            catalog_cache_seconds=config.catalog_cache_seconds,
        )
    return _deps[own_arn]


class ReviewStepEvent(BaseModel):
    """The schedule's Input (extra keys, e.g. scheduler context, are ignored)."""

    model_config = ConfigDict(extra="ignore")

    # The keys of services.review_requests (REQUEST_EVENT_KEY, STEP_EVENT_KEY).
    request_id: str = Field(alias="review_request", min_length=1, max_length=64)
    step: int = Field(alias="step", ge=1, le=10)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, str]:
    parsed = schedule_input(ReviewStepEvent, event, "review step")
    if parsed is None:
        return {"outcome": "invalid_event"}
    deps = deps_for(context.invoked_function_arn)
    outcome = review_requests.send_step(deps, parsed.request_id, parsed.step, datetime.now(UTC))
    metrics.add_metric(name=f"ReviewStep_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
