"""Each function's log lines on the local stack carry its own service name (issue 13, item 6).

The stack imports the layer once for every function, so its Powertools logger is one object made
under the first function's environment; the local invoker gives each invocation its own copy of
the logger's keys with the function's POWERTOOLS_SERVICE_NAME from template.yaml (and its own
event: bookbay_local.powertools). Over HTTP: the catalog and availability functions each answer a
404 ``location_not_found`` for a store that does not exist and log a "domain error" line; one of
each in turn, then eight of each at the same moment. Each answer is its own request's (one routed
or validated with another's event would not be), and the stack's log, read from where it stood
before the requests, has one line per request, with its function's service and its request's id.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bookbay_local.template import load_template

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
AT_ONCE = 8


def service_name(logical_id: str) -> str:
    """The function's POWERTOOLS_SERVICE_NAME as template.yaml gives it."""
    variables = TEMPLATE.properties(logical_id)["Environment"]["Variables"]
    return str(variables["POWERTOOLS_SERVICE_NAME"])


def catalog_request(client: httpx.Client) -> httpx.Response:
    return client.get(f"/v1/locations/nowhere-{uuid.uuid4().hex[:8]}")


def availability_request(client: httpx.Client) -> httpx.Response:
    store = f"nowhere-{uuid.uuid4().hex[:8]}"
    query = {"location_id": store, "service_id": "oil-change", "appointment_type": "in_store"}
    return client.get("/v1/availability", params=query)


REQUESTS: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "CatalogFunction": catalog_request,
    "AvailabilityFunction": availability_request,
}


def domain_error_lines(log: str) -> list[dict[str, Any]]:
    """The functions' "domain error" lines (JSON) in ``log``."""
    lines = []
    for text in log.splitlines():
        if not text.startswith("{") or '"domain error"' not in text:
            continue
        line = json.loads(text)
        if line.get("message") == "domain error":
            lines.append(line)
    return lines


def logical_id(line: dict[str, Any]) -> str:
    """The function that wrote ``line``, by its physical name (bookbay-local-<logical id>)."""
    return str(line["function_name"]).rsplit("-", 1)[-1]


def test_two_functions_log_under_their_own_service_names_in_turn_and_at_once(
    local_stack: Any, stack_log: Callable[[], str]
) -> None:
    assert service_name("CatalogFunction") != service_name("AvailabilityFunction")
    before = len(stack_log())

    # One of each in turn, then AT_ONCE of each at the same moment, each on a connection of its own
    calls = list(REQUESTS.items()) + [item for _ in range(AT_ONCE) for item in REQUESTS.items()]
    in_turn, at_once = calls[: len(REQUESTS)], calls[len(REQUESTS) :]
    answers: list[tuple[str, httpx.Response]] = []
    with httpx.Client(base_url=local_stack.base_url, timeout=60) as client:
        answers += [(function, request(client)) for function, request in in_turn]
    start = threading.Barrier(len(at_once))

    def send(call: tuple[str, Callable[[httpx.Client], httpx.Response]]) -> tuple[str, httpx.Response]:
        function, request = call
        with httpx.Client(base_url=local_stack.base_url, timeout=60) as client:
            start.wait()
            return function, request(client)

    with ThreadPoolExecutor(max_workers=len(at_once)) as pool:
        answers += list(pool.map(send, at_once))
    for function, response in answers:
        assert response.status_code == 404, (function, response.text)
        assert response.json()["error"]["code"] == "location_not_found", (function, response.text)

    # Then each request logged one line, under the service name of the function that wrote it
    lines = [line for line in domain_error_lines(stack_log()[before:]) if logical_id(line) in REQUESTS]
    assert Counter(logical_id(line) for line in lines) == Counter(function for function, _ in calls)
    for line in lines:
        assert line["service"] == service_name(logical_id(line)), line
    assert {line["service"] for line in lines} == {service_name(function) for function in REQUESTS}
    # And with its own request's id: no line took another invocation's keys
    assert len({line["correlation_id"] for line in lines}) == len(calls)
