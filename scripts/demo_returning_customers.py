"""Returning customers, end to end over HTTP on a running local stack (issue 4's walk-through).

    make run                    # in one terminal: prints "Moto endpoint: http://127.0.0.1:NNNNN"
    .venv/bin/python scripts/demo_returning_customers.py --moto-url http://127.0.0.1:NNNNN

Against the demo shop, with `require_verification` switched on for the run (and put back after):

1. a new customer verifies by SMS (the code is read from /_local/messages) and books at home;
2. the same person comes back from another source, verifies by e-mail, is shown their vehicle and
   a masked address, books with nothing re-entered, and is still one customer;
3. a known-source link (ops/customers.py source-link) plus the phone books without a code, the
   vehicle preselected; a wrong phone gets the generic 403;
4. Do Not Service (ops/customers.py do-not-service) refuses the booking with the store's phone;
5. takeover on: a phone not on file booking at the same address books on that customer, with the
   POTENTIAL SITE TAKEOVER note in the store's e-mail; takeover off: a new customer;
6. brute force: a 6th check of a code is refused even with the right code; a 6th send to one
   phone within 10 minutes is refused with Retry-After (this waits out the 30-second resend
   cooldown five times, about 2.5 minutes; --skip-send-limit leaves it out).

Phones and e-mails are fresh each run (555-01xx numbers in area codes no other test uses), and
requests leave from their own loopback address, so the per-IP send cap of other clients is not
touched. Exit status 0 when every step behaved as described, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "ops" / "customers.py"
AREA_CODES = ("210", "214", "281", "346", "409", "430", "469", "682", "713", "806", "817", "830", "915")
LOCATION = "austin-downtown"
HOME = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
SAME_PLACE = {"line1": "123 MAIN ST", "city": "AUSTIN", "state": "TX", "zip": "78701"}
STORE_EMAIL = "austin@demo-auto.example.com"
CODE_TEXT = re.compile(r"^(\d{6}) is your ")


class DemoFailed(AssertionError):
    """A step did not behave as the walk-through says."""


class Demo:
    def __init__(
        self,
        base_url: str,
        moto_url: str,
        *,
        source_ip: str | None = None,
        out: Callable[[str], None] = print,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.moto_url = moto_url
        self.out = out
        self.source_ip = source_ip or f"127.0.{random.randint(10, 250)}.{random.randint(2, 250)}"
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=30,
            transport=httpx.HTTPTransport(local_address=self.source_ip),
        )
        self.rng = random.Random()
        self.used: set[str] = set()  # phones handed out
        self.emails: set[str] = set()
        self.codes: list[str] = []  # codes read from the messages
        self.slots: list[str] = []
        self.figures: dict[str, Any] = {}
        # What the steps learn, in order
        self.phone_number = self.email_address = self.customer_id = self.vehicle_id = self.source_token = ""

    # ------------------------------------------------------------------ helpers
    def say(self, text: str) -> None:
        self.out(text)

    def expect(self, condition: bool, what: str, detail: Any = None) -> None:
        if not condition:
            raise DemoFailed(f"{what}: {detail!r}" if detail is not None else what)
        self.out(f"   ok  {what}")

    def phone(self) -> str:
        while True:
            number = f"+1{self.rng.choice(AREA_CODES)}5550{self.rng.randint(100, 199)}"
            if number not in self.used:
                self.used.add(number)
                return number

    def email(self, name: str) -> str:
        address = f"{name}.{uuid.uuid4().hex[:8]}@example.com"
        self.emails.add(address)
        return address

    def staff_headers(self, *groups: str) -> dict[str, str]:
        """A staff member's token (in ``groups`` too: the shop owner is staff and owner)."""
        claims = {"sub": "demo-staff", "email": "staff@example.com", "groups": ["staff", *groups]}
        token = self.http.post("/_local/token", json=claims).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change shop settings as the shop's owner (takeover and verification are owner-only);
        returns what they were."""
        staff = self.staff_headers("owner")
        before: dict[str, Any] = self.http.get("/v1/admin/settings", headers=staff).json()["settings"]
        answer = self.http.patch("/v1/admin/settings", json={"changes": changes}, headers=staff)
        if answer.status_code != 200:
            raise DemoFailed(f"PATCH /v1/admin/settings: {answer.status_code} {answer.text}")
        return {name: before[name] for name in changes}

    def next_slot(self) -> str:
        if not self.slots:
            start = datetime.now(UTC).date() + timedelta(days=2)
            answer = self.http.get(
                "/v1/availability",
                params={
                    "location_id": LOCATION,
                    "service_id": "oil-change",
                    "appointment_type": "at_home",
                    "from": start.isoformat(),
                    "days": 14,
                    "zip": HOME["zip"],
                },
            )
            if answer.status_code != 200:
                raise DemoFailed(f"availability: {answer.status_code} {answer.text}")
            # Every other slot, so that each booking has room (capacity 2) whatever the others took
            self.slots = [s["start"] for s in answer.json()["slots"] if s["remaining"] >= 1][::2]
            self.rng.shuffle(self.slots)
        if not self.slots:
            raise DemoFailed("no free at-home slots in the next two weeks")
        return self.slots.pop()

    def messages_to(self, to: str) -> list[dict[str, Any]]:
        self.http.post("/_local/streams/drain", json={"timeout_seconds": 20})
        messages: list[dict[str, Any]] = self.http.get("/_local/messages").json()["messages"]
        return [m for m in messages if m["to"].casefold() == to.casefold()]

    def send_code(self, channel: str, to: str) -> httpx.Response:
        return self.http.post("/v1/verification/codes", json={"channel": channel, "to": to})

    def latest_code(self, to: str) -> str:
        texts = [m["text"] for m in self.messages_to(to) if CODE_TEXT.match(m["text"] or "")]
        if not texts:
            raise DemoFailed(f"no code message for {to}")
        found = CODE_TEXT.match(texts[-1])
        code = found.group(1) if found else ""
        self.codes.append(code)
        return code

    def verify(self, channel: str, to: str, zip_code: str | None = None) -> dict[str, Any]:
        sent = self.send_code(channel, to)
        self.expect(sent.status_code == 202, f"code sent by {channel} (202)", sent.text)
        body: dict[str, Any] = {"to": to, "code": self.latest_code(to)}
        if zip_code:
            body["zip"] = zip_code
        checked = self.http.post("/v1/verification/checks", json=body)
        self.expect(
            checked.status_code == 200, "code read from /_local/messages and checked (200)", checked.text
        )
        answer: dict[str, Any] = checked.json()
        return answer

    def book(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = {
            "location_id": LOCATION,
            "service_id": "oil-change",
            "appointment_type": "at_home",
            "start": self.next_slot(),
            "source": "web",
            **body,
        }
        return self.http.post("/v1/appointments", json=request, headers=headers)

    def ops(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, Any]:
        """ops/customers.py against the local stack's Moto endpoint: (exit status, printed JSON)."""
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
        done = subprocess.run(
            [sys.executable, str(OPS), *args, "--endpoint-url", self.moto_url],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        if done.returncode not in ok:
            raise DemoFailed(f"ops/customers.py {' '.join(args)}: exit {done.returncode}: {done.stderr}")
        # The JSON comes first; a hint for people may follow it
        printed = json.JSONDecoder().raw_decode(done.stdout.strip())[0] if done.stdout.strip() else None
        return done.returncode, printed

    def customer_of(self, flag: str, value: str) -> str | None:
        status, printed = self.ops("find", flag, value, ok=(0, 1))
        return str(printed["customer_id"]) if status == 0 and printed else None

    # ------------------------------------------------------------------ the walk-through
    def run(self, *, send_limit: bool = True) -> dict[str, Any]:
        before = self.settings(require_verification=True, takeover_enabled=False)
        try:
            self.new_customer_by_sms()
            self.returning_by_email()
            self.known_source()
            self.do_not_service()
            self.takeover()
            self.brute_force(send_limit=send_limit)
        finally:
            self.settings(**before)
        return self.figures

    def new_customer_by_sms(self) -> None:
        self.say("1. A new customer verifies by SMS and books")
        self.phone_number = self.phone()
        self.email_address = self.email("morgan")
        self.contact = {
            "first_name": "Morgan",
            "last_name": "Lee",
            "phone": self.phone_number,
            "email": self.email_address,
        }
        vehicle = {"year": 2019, "make": "Honda", "model": "Civic"}
        refused = self.book({"customer": self.contact, "vehicle": vehicle, "address": HOME})
        self.expect(
            refused.status_code == 401 and refused.json()["error"]["code"] == "verification_required",
            "booking without a code: 401 verification_required",
            refused.text,
        )
        answer = self.verify("sms", self.phone_number)
        self.expect(answer["returning_customer"] is False, "the phone is new: returning_customer false")
        booked = self.book(
            {"customer": self.contact, "vehicle": vehicle, "address": HOME}, answer["verification_token"]
        )
        self.expect(booked.status_code == 201, "booked with the verification token (201)", booked.text)
        self.customer_id = self.customer_of("--phone", self.phone_number) or ""
        self.expect(bool(self.customer_id), "the verified phone is a customer now")
        self.figures["customer_id"] = self.customer_id

    def returning_by_email(self) -> None:
        self.say("2. The same person comes back from another source and verifies by e-mail")
        answer = self.verify("email", self.email_address.upper(), zip_code="78701")
        customer = answer["customer"] or {}
        self.expect(answer["returning_customer"] is True, "recognized: returning_customer true")
        self.expect(customer.get("first_name") == "Morgan", "first name shown", customer)
        vehicles, addresses = customer.get("vehicles", []), customer.get("addresses", [])
        self.expect([v["label"] for v in vehicles] == ["2019 Honda Civic"], "their vehicle to pick", vehicles)
        self.expect([a["masked"] for a in addresses] == ["1** M*** St"], "their address, masked", addresses)
        self.vehicle_id = vehicles[0]["id"]
        booked = self.book(
            {"vehicle_id": self.vehicle_id, "address_id": addresses[0]["id"], "source": "google"},
            answer["verification_token"],
        )
        self.expect(booked.status_code == 201, "booked with nothing re-entered (201)", booked.text)
        same = self.customer_of("--email", self.email_address) == self.customer_of(
            "--phone", self.phone_number
        )
        self.expect(same, "still one customer (phone and e-mail agree)")
        self.figures["masked_address"] = addresses[0]["masked"]

    def known_source(self) -> None:
        self.say("3. A known-source link plus the phone books without a code")
        # Locally there is no stack to read PublicBaseUrl from: the links start with the stack's URL
        _, link = self.ops(
            "source-link",
            "--customer",
            self.customer_id,
            "--vehicle",
            self.vehicle_id,
            "--base-url",
            self.base_url,
        )
        self.expect("/book?src=" in link["url"], "source link created", link["url"].split("?")[0])
        wrong = self.http.post(
            "/v1/identity/known-source", json={"source_token": link["source_token"], "phone": self.phone()}
        )
        self.expect(
            wrong.status_code == 403 and wrong.json()["error"]["code"] == "identity_mismatch",
            "a wrong phone: 403 identity_mismatch",
            wrong.text,
        )
        matched = self.http.post(
            "/v1/identity/known-source",
            json={"source_token": link["source_token"], "phone": self.phone_number},
        )
        self.expect(matched.status_code == 200, "the right phone: a verification token (200)", matched.text)
        answer = matched.json()
        self.expect(
            (answer.get("vehicle") or {}).get("id") == self.vehicle_id, "the link's vehicle preselected"
        )
        booked = self.book({"address_id": None, "address": HOME}, answer["verification_token"])
        self.expect(booked.status_code == 201, "booked with no code and no vehicle picked (201)", booked.text)
        self.source_token = link["source_token"]

    def do_not_service(self) -> None:
        self.say("4. Do Not Service")
        self.ops("do-not-service", "--customer", self.customer_id, "--on")
        try:
            matched = self.http.post(
                "/v1/identity/known-source",
                json={"source_token": self.source_token, "phone": self.phone_number},
            )
            self.expect(matched.status_code == 200, "identity answers reveal nothing about the flag (200)")
            refused = self.book({"address": HOME}, matched.json()["verification_token"])
            error = refused.json().get("error", {})
            self.expect(
                refused.status_code == 403 and error.get("code") == "booking_not_available",
                "refused: 403 booking_not_available",
                refused.text,
            )
            self.expect(bool(error.get("phone")), "the answer gives the store's phone", error.get("message"))
            self.figures["do_not_service_message"] = error.get("message")
        finally:
            self.ops("do-not-service", "--customer", self.customer_id, "--off")

    def takeover(self) -> None:
        self.say("5. Takeover")
        for enabled, (first, last) in ((True, ("Sam", "Okafor")), (False, ("Riley", "Chen"))):
            state = "on" if enabled else "off"
            self.settings(takeover_enabled=enabled)
            phone, email = self.phone(), self.email(first.lower())
            stranger = {"first_name": first, "last_name": last, "phone": phone, "email": email}
            token = self.verify("sms", phone)["verification_token"]
            vehicle = {"year": 2021, "make": "Kia", "model": "Soul"}
            booked = self.book({"customer": stranger, "vehicle": vehicle, "address": SAME_PLACE}, token)
            self.expect(
                booked.status_code == 201, f"takeover {state}: booked at the same address", booked.text
            )
            mails = [
                m for m in self.messages_to(STORE_EMAIL) if f"{first} {last}" in (m.get("subject") or "")
            ]
            self.expect(len(mails) == 1, f"takeover {state}: the store got the request e-mail", len(mails))
            text = mails[0]["text"] or ""
            owner = self.customer_of("--phone", phone)
            if enabled:
                self.expect(owner is None, "on: no new customer for the unknown phone")
                self.expect("***POTENTIAL SITE TAKEOVER***" in text, "on: the store e-mail carries the note")
                self.expect(
                    f"NAME: {first} {last}" in text
                    and "PHONE NUMBER: +1 " in text
                    and f"EMAIL: {email}" in text,
                    "on: the note holds the booker's name, phone and e-mail",
                )
                start = text.index("***POTENTIAL")
                self.figures["takeover_note"] = text[
                    start : text.index("that record.", start) + len("that record.")
                ]
            else:
                self.expect(owner not in (None, self.customer_id), "off: a new customer (and location)")
                self.expect("TAKEOVER" not in text, "off: no takeover note")

    def brute_force(self, *, send_limit: bool) -> None:
        self.say("6. Brute force")
        phone = self.phone()
        self.expect(self.send_code("sms", phone).status_code == 202, "a code sent")
        code = self.latest_code(phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        statuses = [
            self.http.post("/v1/verification/checks", json={"to": phone, "code": wrong}).status_code
            for _ in range(5)
        ]
        self.expect(statuses == [400] * 5, "5 wrong codes: 400 invalid_code each", statuses)
        sixth = self.http.post("/v1/verification/checks", json={"to": phone, "code": code})
        self.expect(
            sixth.status_code == 410 and sixth.json()["error"]["code"] == "code_expired",
            "the 6th check, with the right code: refused (410 code_expired)",
            sixth.text,
        )
        if not send_limit:
            return
        # The send limit counts in fixed 10-minute windows: start where the 2.5 minutes of sends
        # fit in one window, or the 6th send would open a new one
        into_window = time.time() % 600
        if into_window > 600 - 180:
            self.say(f"   ...  waiting {600 - into_window:.0f} s for a fresh 10-minute window")
            time.sleep(600 - into_window + 1)
        other = self.phone()
        for attempt in range(1, 6):
            if attempt > 1:
                self.say("   ...  waiting out the 30-second resend cooldown")
                time.sleep(31)
            sent = self.send_code("sms", other)
            self.expect(sent.status_code == 202, f"send {attempt} of 5 accepted", sent.text)
        self.say("   ...  waiting out the cooldown once more: the 6th send is refused by the 10-minute limit")
        time.sleep(31)
        refused = self.send_code("sms", other)
        retry_after = refused.headers.get("Retry-After")
        self.expect(
            refused.status_code == 429 and retry_after is not None and int(retry_after) > 30,
            f"the 6th send within 10 minutes: 429 with Retry-After {retry_after}",
            refused.text,
        )
        self.figures["sixth_send_retry_after"] = int(retry_after or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:3000", help="the local stack (make run)")
    parser.add_argument("--moto-url", required=True, help='the "Moto endpoint" make run printed')
    parser.add_argument(
        "--skip-send-limit", action="store_true", help="leave out the 2-minute send-limit step"
    )
    args = parser.parse_args(argv)
    demo = Demo(args.base_url, args.moto_url)
    try:
        figures = demo.run(send_limit=not args.skip_send_limit)
    except DemoFailed as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
