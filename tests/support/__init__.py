"""Test helpers: sample events from events/, a Lambda context, loading a function's app.py by path."""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json (the same events ``sam local invoke -e`` uses)."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(event)


def with_body(
    event: dict[str, Any], body: str | None, content_type: str | None = "application/json"
) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["body"] = body
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return event


def with_query(event: dict[str, Any], query: dict[str, str] | None) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "bookbay-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bookbay-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_function(name: str, env: dict[str, str]) -> ModuleType:
    """Import functions/<name>/app.py by path as a fresh module, with ``env`` set (cold start)."""
    path = FUNCTIONS / name / "app.py"
    module_name = f"bookbay_test_fn_{name}"
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return module


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def error_of(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """The error object of a handler's answer, after checking its status, code and message."""
    assert response["statusCode"] == status, response["body"]
    error: dict[str, Any] = response_json(response)["error"]
    assert error["code"] == code and error["message"]
    return error


class LogLines(logging.Handler):
    """Keeps each record as a function's JSON formatter writes it, and every field it carries (so a
    test can assert that a value reaches no log line, formatted or not)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))


def with_value(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the field at ``path`` (dotted, e.g. ``customer.first_name``)
    set to ``value``."""
    changed: dict[str, Any] = json.loads(json.dumps(data))
    *parents, name = path.split(".")
    target = changed
    for part in parents:
        target = target[part]
    target[name] = value
    return changed
