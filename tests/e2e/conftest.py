"""E2E fixtures: the local stack (``python -m bookbay_local --port 0``) as a subprocess, once per session.

    def test_x(local_stack):
        httpx.get(local_stack.base_url + "/v1/shop")

Its output goes to tests/e2e/artifacts/local-stack.log (local-stack-gw0.log, ... under
pytest-xdist, one stack per worker; read it when a test fails).

Shared fixtures on it (per test module): ``http`` (an httpx client on its base URL), ``staff`` (the
Authorization header of a staff token from ``POST /_local/token``; ``owner``: one also in the owner
group, for the owner-only settings), ``dynamodb`` (a boto3 client on
its moto endpoint). Shared helpers are in tests/e2e/booking.py.

To run the tests against a stack already running (``make run``), give its URLs (and, for the
tests that read the stack's log, the file its output goes to):

    BOOKBAY_E2E_URL=http://127.0.0.1:3000 BOOKBAY_E2E_MOTO_URL=<the "Moto endpoint" it printed> \
        BOOKBAY_E2E_LOG=<make run's output, optional> .venv/bin/python -m pytest tests/e2e/...
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import ARGS, CHROMIUM, require_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
READY = re.compile(r"^Bookbay local stack ready at (http://\S+)$", re.MULTILINE)
MOTO = re.compile(r"^Moto endpoint: (http://\S+)", re.MULTILINE)
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class LocalStackProcess:
    base_url: str
    moto_url: str
    process: subprocess.Popen[bytes] | None  # None: a stack someone else started (make run)
    log_path: Path


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackProcess]:
    log_path = worker_log_path("local-stack")
    running = os.environ.get("BOOKBAY_E2E_URL")
    if running:
        given_log = os.environ.get("BOOKBAY_E2E_LOG")
        yield LocalStackProcess(
            running.rstrip("/"),
            os.environ.get("BOOKBAY_E2E_MOTO_URL", ""),
            None,
            Path(given_log) if given_log else log_path,
        )
        return
    with started_stack(log_path) as stack:
        yield stack


def worker_log_path(name: str) -> Path:
    """Where a stack called ``name`` logs: one file per pytest-xdist worker. The stack's URLs are
    read from its log, so two workers writing one file could both find the first one's and share
    a stack (and its rate limits and data)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return ARTIFACTS / (f"{name}-{worker}.log" if worker else f"{name}.log")


@contextmanager
def started_stack(log_path: Path) -> Iterator[LocalStackProcess]:
    """``python -m bookbay_local --port 0`` with its output in ``log_path``, once it is ready;
    stopped after the block."""
    paths = [str(ROOT / "layers" / "common"), str(ROOT / "local"), str(ROOT)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    # The log is a file, not a pipe: a pipe nobody reads would fill up and stall the stack.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bookbay_local", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            text = log_path.read_text(errors="replace")
            ready, moto = READY.search(text), MOTO.search(text)
            if ready is not None and moto is not None:
                break
            if process.poll() is not None:
                pytest.fail(f"the local stack exited with {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the local stack was not ready within {START_TIMEOUT_SECONDS} s:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
        yield LocalStackProcess(
            base_url=ready.group(1), moto_url=moto.group(1), process=process, log_path=log_path
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one test module (tests/e2e/browser.py: where, and how)."""
    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def http(local_stack: LocalStackProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def staff(http: httpx.Client, request: pytest.FixtureRequest) -> dict[str, str]:
    """Headers of a staff member's token (its ``sub`` names the test module, for the audit trail)."""
    return token_headers(http, request, "e2e", "staff@example.com", ["staff"])


@pytest.fixture(scope="module")
def owner(http: httpx.Client, request: pytest.FixtureRequest) -> dict[str, str]:
    """Headers of a shop owner's token (staff and owner groups): the owner-only settings (mail
    routing, notification addresses, security: bookbay.services.settings.OWNER_ONLY) need it."""
    return token_headers(http, request, "e2e-owner", "owner@example.com", ["staff", "owner"])


def token_headers(
    http: httpx.Client, request: pytest.FixtureRequest, prefix: str, email: str, groups: list[str]
) -> dict[str, str]:
    """Headers of a local Cognito stand-in token for ``groups``; its ``sub`` is ``prefix`` and the
    test module's name."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    claims = {"sub": f"{prefix}-{module}", "email": email, "groups": groups}
    token = http.post("/_local/token", json=claims)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['token']}"}


@pytest.fixture(scope="module")
def dynamodb(local_stack: LocalStackProcess) -> Any:
    """The local stack's DynamoDB (moto), to read what the API does not show."""
    return boto3.client(
        "dynamodb",
        endpoint_url=local_stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stack_log(local_stack: LocalStackProcess) -> Callable[[], str]:
    """Reads everything the stack has logged until then (skips the test against a running stack
    whose log was not given with BOOKBAY_E2E_LOG)."""
    if local_stack.process is None and not os.environ.get("BOOKBAY_E2E_LOG"):
        pytest.skip("the running stack's log is not known: set BOOKBAY_E2E_LOG to its output file")
    return lambda: local_stack.log_path.read_text(errors="replace")
