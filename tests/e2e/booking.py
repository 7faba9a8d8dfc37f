"""Helpers the e2e tests share: booking over HTTP as a customer of the demo shop does (from a
loopback address of their own, verifying their e-mail with a one-time code where the shop asks
for one; the day's last free slot of the Austin store's in-store oil change, other e2e tests take
the first ones of their days), the demo shop's calendar read independently of the code under
test, the messages the stack sent, and its scheduler."""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import holidays
import httpx
import phonenumbers

from bookbay.shopfile import read_shop_file

ROOT = Path(__file__).resolve().parents[2]
SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "in_store"}
DEMO = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml").shop.settings
CODE_TEXT = re.compile(r"^(\d{6}) is your ")  # the one-time code's SMS and e-mail text
TOKEN_REUSE_SECONDS = 25 * 60  # a verification token lasts 30 minutes
Channel = Literal["email", "sms"]


# ------------------------------------------------------------------------------ customers
_NETWORK = random.randint(20, 250)  # 127.<this>.x.y: apart from the addresses other runs took
_HOSTS = itertools.count()
_LOCK = threading.Lock()
_ADDRESSES: dict[str, str] = {}  # a customer's e-mail (or phone) -> their loopback address
_TOKENS: dict[tuple[Channel, str], tuple[str, float]] = {}  # (channel, destination) -> token, when


def loopback() -> str:
    """A loopback address no other client of this run sends from (the stack limits code sends
    per address: each simulated customer has one of their own)."""
    with _LOCK:
        n = next(_HOSTS)
    return f"127.{_NETWORK}.{n // 250}.{n % 250 + 2}"


def address_of(customer: Mapping[str, Any]) -> str:
    """The loopback address ``customer`` (a booking's ``customer``: their e-mail, else phone, says
    who) sends from: their own, the same every time."""
    who = str(customer.get("email") or customer.get("phone") or "").lower()
    with _LOCK:
        known = _ADDRESSES.get(who)
    if known is None:
        known = loopback()
        with _LOCK:
            known = _ADDRESSES.setdefault(who, known)
    return known


def client_from(http: httpx.Client, address: str) -> httpx.Client:
    """A client of ``http``'s stack whose connections leave from ``address``."""
    return httpx.Client(
        base_url=http.base_url, timeout=60, transport=httpx.HTTPTransport(local_address=address)
    )


def destination(customer: Mapping[str, Any], channel: Channel) -> str:
    """Where ``channel``'s code goes, as the stack's messages name it (E.164, a lower-case e-mail)."""
    if channel == "sms":
        number = phonenumbers.parse(str(customer["phone"]), "US")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return str(customer["email"]).lower()


def requires_verification(http: httpx.Client) -> bool:
    """Whether the shop asks for a one-time code before booking (GET /v1/shop, as the page reads it)."""
    shop = http.get("/v1/shop")
    assert shop.status_code == 200, shop.text
    return bool(shop.json()["shop"]["require_verification"])


def verification_tokens(
    http: httpx.Client, customers: Sequence[Mapping[str, Any]], channel: Channel = "email"
) -> list[str]:
    """A verification token for each of ``customers``, as each gets one: a one-time code to their
    e-mail (``channel`` sms: their phone), asked for from their own address, read from the stack's
    messages and checked. The codes are all asked for first, then read once the outbox is
    delivered. A token is kept for the customer's next bookings for 25 minutes (it lasts 30, and a
    new code to the same destination could not be sent within the 30-second resend cooldown)."""
    now = time.monotonic()
    wanted = [(customer, destination(customer, channel)) for customer in customers]
    with _LOCK:
        kept = {to: _TOKENS.get((channel, to)) for _, to in wanted}
    fresh = {to: found[0] for to, found in kept.items() if found and now - found[1] < TOKEN_REUSE_SECONDS}
    to_verify = {to: customer for customer, to in wanted if to not in fresh}
    for to, customer in to_verify.items():
        with client_from(http, address_of(customer)) as own:
            sent = own.post("/v1/verification/codes", json={"channel": channel, "to": to})
        assert sent.status_code == 202, f"{to}: {sent.text}"
    sent_now: list[dict[str, Any]] = []
    if to_verify:
        drain(http)
        sent_now = http.get("/_local/messages").json()["messages"]
    for to, customer in to_verify.items():
        codes = [
            found.group(1) for m in sent_now if m["to"] == to and (found := CODE_TEXT.match(m["text"] or ""))
        ]
        assert codes, f"no one-time code reached {to}"
        with client_from(http, address_of(customer)) as own:
            checked = own.post("/v1/verification/checks", json={"to": to, "code": codes[-1]})
        assert checked.status_code == 200, f"{to}: {checked.text}"
        fresh[to] = str(checked.json()["verification_token"])
        with _LOCK:
            _TOKENS[(channel, to)] = (fresh[to], time.monotonic())
    return [fresh[to] for _, to in wanted]


def verification_token(http: httpx.Client, customer: Mapping[str, Any], channel: Channel = "email") -> str:
    """One customer's token (see :func:`verification_tokens`)."""
    return verification_tokens(http, [customer], channel)[0]


def forget_verification(customer: Mapping[str, Any], channel: Channel = "email") -> None:
    """Drop the customer's kept token (the next booking verifies again)."""
    with _LOCK:
        _TOKENS.pop((channel, destination(customer, channel)), None)


def authorization(
    http: httpx.Client, customer: Mapping[str, Any], channel: Channel = "email"
) -> dict[str, str]:
    """The headers a booking by ``customer`` needs: their verification token where the shop asks
    for one, else none."""
    if not requires_verification(http):
        return {}
    return {"Authorization": f"Bearer {verification_token(http, customer, channel)}"}


def post_booking(
    http: httpx.Client,
    body: Mapping[str, Any],
    *,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    channel: Channel = "email",
) -> httpx.Response:
    """POST /v1/appointments with ``body`` as its customer sends it: from their own loopback
    address, with ``key`` as the Idempotency-Key (a new one by default), and with the verification
    token of their e-mail (``channel`` sms: their phone) where the shop asks for one, unless
    ``headers`` carry an Authorization. The answer, whatever it is."""
    customer: Mapping[str, Any] = body.get("customer") or {}
    sent = {"Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})}
    verify = "Authorization" not in sent
    if verify:
        sent.update(authorization(http, customer, channel))
    with client_from(http, address_of(customer)) as own:
        response = own.post("/v1/appointments", json=dict(body), headers=sent)
        if verify and "Authorization" in sent and _code_of(response) == "invalid_verification_token":
            forget_verification(customer, channel)  # a kept token the stack no longer takes
            sent.update(authorization(http, customer, channel))
            response = own.post("/v1/appointments", json=dict(body), headers=sent)
    return response


def _code_of(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def book_last_free_slot(
    http: httpx.Client, day: date, customer: dict[str, str], vehicle: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """POST /v1/appointments for ``day``'s last free start, as the customer books
    (:func:`post_booking`; ``extra``: more body fields, e.g. ``preferred_channel``); the 201 answer."""
    response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
    assert response.status_code == 200, response.text
    start = [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 1][-1]
    body = {**SERVICE, "start": start, "customer": customer, "vehicle": vehicle, "source": "web", **extra}
    booked = post_booking(http, body)
    assert booked.status_code == 201, booked.text
    answer: dict[str, Any] = booked.json()
    return answer


def phone_on_no_customer(
    http: httpx.Client, staff: dict[str, str], area_codes: tuple[str, ...], taken: set[str] | None = None
) -> str:
    """A fictional number (``+1 <area code> 555-01xx``) that is on no customer yet, nor in ``taken``
    (added to it): a stack that ran the tests before holds some, with their history (an opt-out,
    Do Not Service)."""
    taken = taken if taken is not None else set()
    for _ in range(100):
        number = f"+1{random.choice(area_codes)}5550{random.randint(100, 199)}"
        if number in taken:
            continue
        taken.add(number)
        search = http.get("/v1/admin/customers", params={"q": number}, headers=staff)
        assert search.status_code == 200, search.text
        if not search.json()["customers"]:
            return number
    raise AssertionError("100 phone numbers in a row are on customers already: restart the stack")


# ------------------------------------------------------------------------------ the demo's calendar
def closed(day: date) -> bool:
    """The demo shop's closed days, read straight from the holidays library and its shop file."""
    return (
        day.weekday() >= 5
        or day in holidays.country_holidays("US", years=day.year)
        or (day in DEMO.holidays.extra_closed_dates)
    )


def first_day(after: date, wanted: Callable[[date], bool]) -> date:
    """The first day from ``after`` on that is ``wanted``."""
    day = after
    while not wanted(day):
        day += timedelta(days=1)
    return day


# ------------------------------------------------------------------------------ the stack's side
def drain(http: httpx.Client) -> None:
    """Wait until the stack's streams have delivered every outbox record and effect written so far."""
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 30}).json() == {"drained": True}


def messages_to(http: httpx.Client, to: str) -> list[dict[str, Any]]:
    """Every message sent to ``to`` (an address or phone number), oldest first, once the outbox
    is delivered (GET /_local/messages)."""
    drain(http)
    return [m for m in http.get("/_local/messages").json()["messages"] if m["to"] == to]


def is_code(message: Mapping[str, Any]) -> bool:
    """Whether ``message`` (from GET /_local/messages) is a one-time code."""
    return CODE_TEXT.match(message.get("text") or "") is not None


def latest_code(http: httpx.Client, to: str) -> str:
    """The code in the newest one-time-code message to ``to`` (once the outbox is delivered)."""
    codes = [found.group(1) for m in messages_to(http, to) if (found := CODE_TEXT.match(m["text"] or ""))]
    assert codes, f"no one-time code was sent to {to}"
    return codes[-1]


def run_scheduler(http: httpx.Client, until: datetime) -> list[dict[str, Any]]:
    """Let time pass to ``until``: the schedules due by then fire (POST /_local/scheduler/run)."""
    response = http.post("/_local/scheduler/run", json={"until": until.isoformat()})
    assert response.status_code == 200, response.text
    fired: list[dict[str, Any]] = response.json()["fired"]
    return fired
