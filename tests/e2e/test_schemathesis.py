"""Property-based API tests: schemathesis against the local stack, from the served OpenAPI document.

For every operation in the document it sends generated requests (valid and invalid) and checks:
no 5xx, the status code is documented, the content type is the documented one, and the body
conforms to the documented schema. Staff routes run with a token from ``POST /_local/token``;
of those only the reads and the settings PATCH are exercised (the settings are put back
afterwards), so the shared stack's appointments and flags stay as the other e2e tests expect.

The number of cases and failures goes to the terminal and to
tests/e2e/artifacts/schemathesis.json (``N cases, 0 failures``).
"""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
COMMITTED_DOCUMENT = ROOT / "layers" / "common" / "bookbay" / "openapi.json"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

MAX_EXAMPLES = 50  # generated cases per operation, on top of the explicit and coverage-phase ones
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STAFF_CLAIMS = {"sub": "schemathesis", "email": "schemathesis@example.com", "groups": ["staff"]}
# Putting every setting back takes the owner group (the run itself is staff only).
OWNER_CLAIMS = {**STAFF_CLAIMS, "sub": "schemathesis-owner", "groups": ["staff", "owner"]}
ADMIN_PREFIX = "/v1/admin"
# Staff writes that may run: their effect is undone after the run (see `staff_state`).
RESTORED_STAFF_WRITES = {("PATCH", "/v1/admin/settings")}


@dataclass
class Tally:
    """What the run did: requests per operation and status, and the failures."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    document_source: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "cases": sum(self.cases.values()),
            "failures": len(self.failures),
            "operations": len(self.cases),
            "max_examples_per_operation": MAX_EXAMPLES,
            "document": self.document_source,
            "cases_by_operation": dict(sorted(self.cases.items())),
            "status_codes": dict(sorted(self.statuses.items())),
            "failure_details": self.failures[:50],
        }


TALLY = Tally()


def is_staff_route(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX)


def runs_against_shared_stack(method: str, path: str) -> bool:
    """Public routes all run; staff routes only when they read, or their write is put back."""
    return not is_staff_route(path) or method == "GET" or (method, path) in RESTORED_STAFF_WRITES


@pytest.fixture(scope="module")
def staff_token(local_stack: Any) -> str:
    response = httpx.post(f"{local_stack.base_url}/_local/token", json=STAFF_CLAIMS, timeout=10)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def staff_state(local_stack: Any) -> Any:
    """Put the shop settings back as they were once schemathesis has PATCHed them (as the owner)."""
    owner = httpx.post(f"{local_stack.base_url}/_local/token", json=OWNER_CLAIMS, timeout=10)
    owner.raise_for_status()
    headers = {"Authorization": f"Bearer {owner.json()['token']}"}
    url = f"{local_stack.base_url}{ADMIN_PREFIX}/settings"
    before = httpx.get(url, headers=headers, timeout=10)
    before.raise_for_status()
    yield
    current = httpx.get(url, headers=headers, timeout=10).json()
    restored = httpx.patch(
        url,
        headers=headers,
        json={"version": current["version"], "changes": before.json()["settings"]},
        timeout=10,
    )
    assert restored.status_code == 200, f"could not restore the shop settings: {restored.text}"


@pytest.fixture(scope="module")
def served_document(local_stack: Any, request: pytest.FixtureRequest) -> str:
    """The stack serves the document the cases come from (else they would test another API)."""
    request.addfinalizer(lambda: report(request.config))  # noqa: PT021 - also when the set-up fails
    url = f"{local_stack.base_url}/swagger?format=json"
    try:
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
        served = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        warnings.warn(f"{url} did not serve the document ({exc}); testing {COMMITTED_DOCUMENT}", stacklevel=1)
        TALLY.document_source = str(COMMITTED_DOCUMENT.relative_to(ROOT))
        return TALLY.document_source
    committed = json.loads(COMMITTED_DOCUMENT.read_text(encoding="utf-8"))
    served.pop("servers", None)
    committed.pop("servers", None)
    assert served == committed, f"{url} is not layers/common/bookbay/openapi.json: run `make openapi`"
    TALLY.document_source = url
    return url


def report(config: pytest.Config) -> None:
    """Write the tally to the artifacts and to the terminal (past pytest's output capture)."""
    summary = TALLY.summary()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "schemathesis.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    line = (
        f"schemathesis: {summary['cases']} cases over {summary['operations']} operations, "
        f"{summary['failures']} failures (status codes {summary['status_codes']}); "
        "details in tests/e2e/artifacts/schemathesis.json"
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


# The cases are generated at collection time, so from the committed document: `served_document`
# checks that the stack serves exactly it. (schemathesis.pytest.from_fixture, which could load it
# from the stack, fails on pytest 9.2: it sets Item._nodeid, which pytest 9.2 no longer has.)
document = schemathesis.openapi.from_path(COMMITTED_DOCUMENT)
# Deterministic generation; auth headers are ours (a valid staff token), never generated.
document.config.generation.update(
    max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False, database="none"
)
document.config.update(request_timeout=15)
schema = document.include(
    lambda ctx: runs_against_shared_stack(ctx.operation.method.upper(), ctx.operation.path)
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
def test_api_conforms_to_its_document(
    case: schemathesis.Case[Any], local_stack: Any, served_document: str, staff_token: str, staff_state: None
) -> None:
    headers = {"Authorization": f"Bearer {staff_token}"} if is_staff_route(case.path) else None
    # Cases of an operation include requests with other methods (how the API refuses them).
    label = f"{case.operation.method.upper()} {case.operation.path}"
    started = time.monotonic()
    try:
        response = case.call(base_url=local_stack.base_url, headers=headers)
    except Exception as exc:
        TALLY.failures.append(
            {"operation": label, "method": case.method, "error": f"request failed: {exc!r}"}
        )
        raise
    TALLY.cases[label] += 1
    TALLY.statuses[str(response.status_code)] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except Exception as exc:
        TALLY.failures.append(
            {
                "operation": label,
                "method": case.method,
                "status": response.status_code,
                "seconds": round(time.monotonic() - started, 3),
                "error": str(exc)[:2000],
                "curl": case.as_curl_command(headers=headers, base_url=local_stack.base_url),
            }
        )
        raise
