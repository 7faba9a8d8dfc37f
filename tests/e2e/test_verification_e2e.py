"""Verification over HTTP on the local stack: the SMS with the code reaches /_local/messages, the code
checks once, and the answer for an unknown phone is a new customer; a stranger's wrong codes lock
only the stranger out of a phone, and send it nothing more."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.e2e.booking import client_from, latest_code, loopback, messages_to

PHONE = "+17375550142"  # a number no other e2e test books with: this one is a new customer
VICTIM = "+17375550143"  # nor this one: the phone a stranger tries to lock out


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


def test_a_strangers_wrong_codes_lock_out_only_the_stranger(local_stack: Any) -> None:
    http = httpx.Client(base_url=local_stack.base_url, timeout=30)
    stranger, victim = client_from(http, loopback()), client_from(http, loopback())

    # Given a stranger who asked twice for codes to someone's phone and tried 10 wrong ones
    for round_ in range(2):
        if round_:
            time.sleep(31)  # the resend cooldown
        sent = stranger.post("/v1/verification/codes", json={"channel": "sms", "to": VICTIM})
        assert sent.status_code == 202, sent.text
        wrong = f"{(int(latest_code(http, VICTIM)) + 1) % 1_000_000:06d}"
        for _ in range(5):
            checked = stranger.post("/v1/verification/checks", json={"to": VICTIM, "code": wrong})
            assert checked.status_code == 400 and checked.json()["error"]["code"] == "invalid_code"
    texts = len(messages_to(http, VICTIM))

    # Then the stranger is refused even the right code, and a send answers as ever but sends nothing
    locked = stranger.post("/v1/verification/checks", json={"to": VICTIM, "code": latest_code(http, VICTIM)})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "too_many_requests"
    assert int(locked.headers["Retry-After"]) > 3000
    time.sleep(31)
    again = stranger.post("/v1/verification/codes", json={"channel": "sms", "to": VICTIM})
    assert again.status_code == 202 and again.json() == {"expires_in": 600, "resend_after": 30}
    assert len(messages_to(http, VICTIM)) == texts

    # And the phone's owner, from their own address, gets a code and verifies with it
    mine = victim.post("/v1/verification/codes", json={"channel": "sms", "to": VICTIM})
    assert mine.status_code == 202, mine.text
    assert len(messages_to(http, VICTIM)) == texts + 1
    verified = victim.post("/v1/verification/checks", json={"to": VICTIM, "code": latest_code(http, VICTIM)})
    assert verified.status_code == 200, verified.text
    assert verified.json()["verification_token"]
