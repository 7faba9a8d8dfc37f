"""Verification over HTTP on the local stack: the SMS with the code reaches /_local/messages, the code
checks once, and the answer for an unknown phone is a new customer."""

from __future__ import annotations

import re
from typing import Any

import httpx

PHONE = "+17375550142"  # a number no other e2e test books with: this one is a new customer


def test_a_code_sent_by_sms_is_read_from_the_messages_and_checked_once(local_stack: Any) -> None:
    http = httpx.Client(base_url=local_stack.base_url, timeout=30)

    # When a code is requested for a phone
    sent = http.post("/v1/verification/codes", json={"channel": "sms", "to": "(737) 555-0142"})
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"expires_in": 600, "resend_after": 30}

    # Then the SMS arrives through the outbox
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 20}).json() == {"drained": True}
    texts = [m["text"] for m in http.get("/_local/messages").json()["messages"] if m["to"] == PHONE]
    assert len(texts) == 1
    found = re.match(r"^(\d{6}) is your .+ verification code\. It expires in 10 minutes\.$", texts[0])
    assert found, texts[0]

    # And its code gives a verification token, once
    checked = http.post("/v1/verification/checks", json={"to": PHONE, "code": found.group(1)})
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert answer["returning_customer"] is False and answer["customer"] is None
    assert answer["verification_token"] and answer["expires_in"] == 1800
    again = http.post("/v1/verification/checks", json={"to": PHONE, "code": found.group(1)})
    assert again.status_code == 410 and again.json()["error"]["code"] == "code_expired"

    # And a resend right away is refused with Retry-After
    resent = http.post("/v1/verification/codes", json={"channel": "sms", "to": PHONE})
    assert resent.status_code == 429 and 1 <= int(resent.headers["Retry-After"]) <= 30
