"""Public catalog: GET /v1/shop, GET /v1/locations[?near=ZIP], GET /v1/locations/{location_id};
the routes are in ``bookbay.api.routes.catalog``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import catalog
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer

config = BaseConfig.from_env()
deps = wiring.catalog(config)
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
catalog.register(app, deps, now=lambda: clock())  # noqa: PLW0108 - clock read per call (tests set it)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
