"""Powertools logger, tracer and metrics shared by every function (service name from the env)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "Bookbay"

logger = Logger()
tracer = Tracer()
# Explicit, so the namespace never depends on which function's environment imported this first.
metrics = Metrics(namespace=METRICS_NAMESPACE)
