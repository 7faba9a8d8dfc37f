"""Booking over HTTP for the e2e tests: the day's last free slot of the Austin store's in-store oil
change (other e2e tests take the first ones of their days)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx

SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "in_store"}


def book_last_free_slot(
    http: httpx.Client, day: date, customer: dict[str, str], vehicle: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """POST /v1/appointments for ``day``'s last free start (``extra``: more body fields, e.g.
    ``preferred_channel``); the 201 answer."""
    response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
    assert response.status_code == 200, response.text
    start = [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 1][-1]
    body = {**SERVICE, "start": start, "customer": customer, "vehicle": vehicle, "source": "web", **extra}
    booked = http.post("/v1/appointments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 201, booked.text
    answer: dict[str, Any] = booked.json()
    return answer
