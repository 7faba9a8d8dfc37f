"""Issue 4's walk-through over HTTP on the local stack (scripts/demo_returning_customers.py): a new
customer verifies by SMS and books; the same person verifies by e-mail, sees their vehicle and a
masked address, books, and is one customer; a known-source link books without a code; Do Not
Service is refused; takeover on and off; a 6th check is refused. Then the stack's log (every
function's log lines of the whole e2e run) holds no code, phone number or e-mail address the
walk-through used.

The 6th send to one destination within 10 minutes (the script's send-limit step) needs five real
31-second waits for the resend cooldown, about 2.5 minutes: it runs with BOOKBAY_E2E_SEND_LIMIT=1
(and with `make run` and the script itself). In `make test` the limit is held by the integration
tests on a controlled clock (tests/integration/test_verification_api.py), and the cooldown's 429
over HTTP by tests/e2e/test_verification_e2e.py."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from scripts.demo_returning_customers import Demo
from tests.e2e.conftest import ARTIFACTS

SEND_LIMIT = os.environ.get("BOOKBAY_E2E_SEND_LIMIT") == "1"


@pytest.mark.timeout(600 if SEND_LIMIT else 120)  # the send-limit step waits 31 s five times
def test_the_returning_customer_walk_through_and_its_logs(
    local_stack: Any, stack_log: Callable[[], str]
) -> None:
    steps: list[str] = []
    demo = Demo(local_stack.base_url, local_stack.moto_url, out=steps.append)

    figures = demo.run(send_limit=SEND_LIMIT)

    (ARTIFACTS / "returning-customers.txt").write_text("\n".join(steps) + "\n")
    assert not any(line.startswith("FAILED") for line in steps)
    assert figures["masked_address"] == "1** M*** St"
    assert figures["takeover_note"].startswith("***POTENTIAL SITE TAKEOVER***\n\nThis job was booked")
    assert "+1 512-555-0100" in figures["do_not_service_message"]
    if SEND_LIMIT:
        assert 30 < figures["sixth_send_retry_after"] <= 600

    # No code, full phone number or full e-mail address in any log line of the run
    log = stack_log()
    assert "verification code sent" in log and "appointment booked" in log  # the functions' lines are there
    national = [re.sub(r"^\+1(\d{3})(\d{3})(\d{4})$", r"\2-\3", p) for p in demo.used]
    contacts = [*demo.used, *national, *demo.emails, *(e.upper() for e in demo.emails)]
    assert demo.codes and demo.used and demo.emails
    leaked = [c for c in contacts if c in log]
    leaked += [code for code in demo.codes if re.search(rf"(?<![\w.:-]){code}(?![\w.:-])", log)]
    assert leaked == []
