"""Review requests: a step's one-time EventBridge Scheduler schedule invokes the function with
``{"review_request": <id>, "step": <n>}``; ``services.review_requests.send_step`` sends that e-mail
if it is still due and schedules the next step, whose target is this function again (the ARN it
was invoked with). Each outcome is counted as the metric ``ReviewStep_<outcome>``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ConfigDict, Field

from bookbay.api.workers.schedules import schedule_input
from bookbay.modeling import BaseModel
from bookbay.observability import metrics
from bookbay.services import review_requests
from bookbay.services.review_requests import ReviewDeps


class ReviewStepEvent(BaseModel):
    """The schedule's Input (extra keys, e.g. scheduler context, are ignored)."""

    model_config = ConfigDict(extra="ignore")

    # The keys of services.review_requests (REQUEST_EVENT_KEY, STEP_EVENT_KEY).
    request_id: str = Field(alias="review_request", min_length=1, max_length=64)
    step: int = Field(alias="step", ge=1, le=10)


def handle(
    event: Any,
    context: LambdaContext,
    deps_for: Callable[[str], ReviewDeps],
    *,
    now: Callable[[], datetime],
) -> dict[str, str]:
    """Send the step the schedule is for (``deps_for``: the dependencies whose scheduler targets
    the given ARN, this function's); ``invalid_event`` for anything else."""
    parsed = schedule_input(ReviewStepEvent, event, "review step")
    if parsed is None:
        return {"outcome": "invalid_event"}
    deps = deps_for(context.invoked_function_arn)
    outcome = review_requests.send_step(deps, parsed.request_id, parsed.step, now())
    metrics.add_metric(name=f"ReviewStep_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
