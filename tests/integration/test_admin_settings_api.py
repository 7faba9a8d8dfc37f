"""Staff settings: group check, validation, optimistic locking, and bad bodies changing nothing;
the owner group for owner-only settings, the audit entry written with each change (one
transaction), its history, and the public base URL being the deploy-time parameter only."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.models import keys
from bookbay.models.catalog import ShopItem
from bookbay.observability import metrics as powertools_metrics
from bookbay.repositories.catalog import CatalogRepository
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack, table_items
from tests.support import load_event, response_json, with_body, with_query

pytestmark = pytest.mark.integration

STAFF_SUB = "7d1f0c1e-0b7c-4a53-9a8e-2f1b3c4d5e6f"  # events/admin_settings_*.json: staff, not owner
STAFF_EMAIL = "advisor@demo-auto.example.com"
OWNER_SUB = "0a9e5c4b-owner-4f1e-9d7c-1b2a3c4d5e6f"
OWNER_EMAIL = "owner@demo-auto.example.com"
OUTSIDE = "inbox@outside.example.net"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 in Austin
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
# One valid change of each owner-only setting (the SMS spend caps may not exist yet: the owner
# check comes before validation, so naming them is refused all the same).
OWNER_ONLY_CHANGES: dict[str, Any] = {
    "hq_email": OUTSIDE,
    "notification_route": "salesperson",
    "require_verification": False,
    "verification_channels": ["email"],
    "sms_countries": ["US"],
    "takeover_enabled": True,
    "review_requests": {"enabled": True, "review_url": "https://reviews.outside.example.net/x"},
    "sms_sends_per_hour": 1000,
    "sms_sends_per_day": 10000,
}


def patch(changes: dict[str, Any], version: int | None = None, *, owner: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"changes": changes}
    if version is not None:
        body["version"] = version
    event = with_body(load_event("admin_settings_patch"), json.dumps(body))
    return as_owner(event) if owner else event


def as_owner(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` from a staff member who is also in the owner group (as API Gateway passes groups)."""
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.update({"sub": OWNER_SUB, "email": OWNER_EMAIL, "cognito:groups": "staff,owner"})
    return event


def stored_settings(call: Any, app: Any) -> dict[str, Any]:
    settings: dict[str, Any] = response_json(call(app, load_event("admin_settings_get")))
    return settings


def test_claims_without_the_staff_group_or_no_claims_are_refused(settings_app: Any, call: Any) -> None:
    event = load_event("admin_settings_get")
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "customers"
    response = call(settings_app, event)
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (403, "forbidden")
    del event["requestContext"]["authorizer"]
    response = call(settings_app, event)
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (401, "unauthorized")


def test_staff_read_and_change_settings(settings_app: Any, call: Any, catalog_app: Any) -> None:
    before = stored_settings(call, settings_app)
    assert before["settings"]["booking_mode"] == "request"
    response = call(
        settings_app, patch({"booking_mode": "instant", "reminder_business_days": 2}, before["version"])
    )
    assert response["statusCode"] == 200
    after = stored_settings(call, settings_app)
    assert after["settings"]["booking_mode"] == "instant"
    assert after["settings"]["reminder_business_days"] == 2
    assert after["version"] == before["version"] + 1
    # Customers see the change (the catalog reads the same record).
    assert (
        response_json(call(catalog_app, load_event("catalog_get_shop")))["shop"]["booking_mode"] == "instant"
    )


@pytest.mark.parametrize(
    ("event_factory", "status", "code"),
    [
        (lambda: patch({"booking_mode": "sometimes"}), 422, "validation_error"),
        (lambda: patch({"no_such_setting": 1}), 422, "validation_error"),
        (lambda: patch({"notification_route": "hq", "hq_email": None}, owner=True), 422, "validation_error"),
        (lambda: patch({}), 422, "validation_error"),
        (lambda: patch({"holidays": {"country": "US", "subdivision": "ZZ"}}), 422, "validation_error"),
        (lambda: patch({"booking_mode": "instant"}, version=999), 409, "concurrent_update"),
        (lambda: with_body(load_event("admin_settings_patch"), '{"changes": {'), 400, "malformed_json"),
        (
            lambda: with_body(
                load_event("admin_settings_patch"), '{"changes": {"takeover_enabled": true}}', "text/plain"
            ),
            415,
            "unsupported_media_type",
        ),
        (
            lambda: with_body(
                load_event("admin_settings_patch"), "changes=1", "application/x-www-form-urlencoded"
            ),
            415,
            "unsupported_media_type",
        ),
        (lambda: with_body(load_event("admin_settings_patch"), '["changes"]'), 422, "validation_error"),
    ],
)
def test_bad_patches_are_4xx_and_change_nothing(
    settings_app: Any, call: Any, event_factory: Any, status: int, code: str
) -> None:
    before = stored_settings(call, settings_app)
    response = call(settings_app, event_factory())
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (status, code)
    assert stored_settings(call, settings_app) == before


def test_a_non_utf8_body_is_a_400(settings_app: Any, call: Any) -> None:
    before = stored_settings(call, settings_app)
    event = with_body(
        load_event("admin_settings_patch"), base64.b64encode(b'{"changes": "\xff\xfe"}').decode()
    )
    event["isBase64Encoded"] = True
    response = call(settings_app, event)
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (400, "invalid_encoding")
    assert stored_settings(call, settings_app) == before


def test_validation_details_name_the_field(settings_app: Any, call: Any) -> None:
    response = call(settings_app, patch({"slot_minutes": 1}))
    details = response_json(response)["error"]["details"]
    assert details[0]["field"] == "changes.slot_minutes"


# ------------------------------------------------------------------------------ owner-only settings
def settings_items(stack: Stack) -> list[dict[str, Any]]:
    """The audit entries of the settings, as stored (PK=SETTINGS)."""
    return [item for item in table_items(stack) if item["PK"]["S"] == keys.SETTINGS_HISTORY_PK]


def stored_shop(stack: Stack) -> dict[str, Any]:
    item = ShopItem.get(keys.SHOP_PK, keys.SHOP_SK)
    return {"body": item.body, "version": item.version}


def history(call: Any, app: Any, query: dict[str, str] | None = None, *, owner: bool = False) -> Any:
    event = load_event("admin_settings_history")
    if owner:
        event = as_owner(event)
    return call(app, with_query(event, query))


@pytest.mark.parametrize("name", sorted(OWNER_ONLY_CHANGES))
def test_staff_outside_the_owner_group_cannot_change_an_owner_only_setting(
    settings_app: Any, call: Any, seeded: Stack, name: str
) -> None:
    before = stored_shop(seeded)
    response = call(settings_app, patch({"booking_mode": "instant", name: OWNER_ONLY_CHANGES[name]}))
    assert response["statusCode"] == 403
    error = response_json(response)["error"]
    assert error["code"] == "owner_required" and name in error["message"]
    assert error["details"] == [{"field": f"changes.{name}", "message": "only the owner group may change it"}]
    # Nothing changed: not the owner-only setting, not the other one, no audit entry.
    assert stored_shop(seeded) == before
    assert settings_items(seeded) == []


def test_the_refusal_names_every_owner_only_setting_asked_for(settings_app: Any, call: Any) -> None:
    response = call(settings_app, patch({"hq_email": OUTSIDE, "notification_route": "hq"}))
    error = response_json(response)["error"]
    assert (response["statusCode"], error["code"]) == (403, "owner_required")
    assert [d["field"] for d in error["details"]] == ["changes.hq_email", "changes.notification_route"]


def test_staff_still_change_the_other_settings_and_read_which_are_owner_only(
    settings_app: Any, call: Any
) -> None:
    read = stored_settings(call, settings_app)
    assert read["owner"] is False
    assert {"hq_email", "notification_route", "require_verification", "review_requests"} <= set(
        read["owner_only"]
    )
    assert "booking_mode" not in read["owner_only"] and "public_base_url" not in read["settings"]
    response = call(settings_app, patch({"booking_mode": "instant"}, read["version"]))
    assert response["statusCode"] == 200 and response_json(response)["settings"]["booking_mode"] == "instant"
    owner_read = response_json(call(settings_app, as_owner(load_event("admin_settings_get"))))
    assert owner_read["owner"] is True


def test_an_owner_changes_the_routing_and_the_change_is_audited_in_the_same_write(
    settings_app: Any, call: Any, seeded: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics: list[str] = []
    monkeypatch.setattr(powertools_metrics, "add_metric", lambda name, unit, value: metrics.append(name))
    before = stored_settings(call, settings_app)
    changes = {"notification_route": "hq", "hq_email": OUTSIDE, "booking_mode": "instant"}
    response = call(settings_app, patch(changes, before["version"], owner=True))
    assert response["statusCode"] == 200
    assert stored_settings(call, settings_app)["settings"]["hq_email"] == OUTSIDE
    assert metrics == ["SettingsChanged", "SecuritySettingsChanged"]
    [item] = settings_items(seeded)
    entry = json.loads(item["body"]["S"])
    assert entry["action"] == "settings.change"
    assert entry["actor"] == {"kind": "staff", "sub": OWNER_SUB, "email": OWNER_EMAIL}
    assert entry["changes"] == {
        "booking_mode": {"before": "request", "after": "instant"},
        "hq_email": {"before": before["settings"]["hq_email"], "after": OUTSIDE},
        "notification_route": {"before": before["settings"]["notification_route"], "after": "hq"},
    }
    # The history route shows it: who, and what before and after.
    answer = response_json(history(call, settings_app))
    assert answer["next_cursor"] is None
    assert [(e["actor"]["email"], sorted(e["changes"])) for e in answer["history"]] == [
        (OWNER_EMAIL, ["booking_mode", "hq_email", "notification_route"])
    ]


def test_a_staff_change_is_audited_with_its_actor_and_counted_but_not_as_security(
    settings_app: Any, call: Any, seeded: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics: list[str] = []
    monkeypatch.setattr(powertools_metrics, "add_metric", lambda name, unit, value: metrics.append(name))
    assert call(settings_app, patch({"horizon_days": 90}))["statusCode"] == 200
    assert metrics == ["SettingsChanged"]
    [entry] = response_json(history(call, settings_app))["history"]
    assert entry["actor"] == {"kind": "staff", "sub": STAFF_SUB, "email": STAFF_EMAIL}
    assert entry["changes"] == {"horizon_days": {"before": 60, "after": 90}}


def test_a_change_that_changes_nothing_writes_nothing(settings_app: Any, call: Any, seeded: Stack) -> None:
    before = stored_shop(seeded)
    response = call(settings_app, patch({"booking_mode": before["body"]["settings"]["booking_mode"]}))
    assert response["statusCode"] == 200 and response_json(response)["version"] == before["version"]
    assert stored_shop(seeded) == before and settings_items(seeded) == []


def test_history_is_newest_first_in_pages(settings_app: Any, call: Any) -> None:
    for days in (61, 62, 63):
        assert call(settings_app, patch({"horizon_days": days}))["statusCode"] == 200
    first = response_json(history(call, settings_app, {"limit": "2"}))
    assert [e["changes"]["horizon_days"]["after"] for e in first["history"]] == [63, 62]
    rest = response_json(history(call, settings_app, {"limit": "2", "cursor": first["next_cursor"]}))
    assert [e["changes"]["horizon_days"]["after"] for e in rest["history"]] == [61]
    assert rest["next_cursor"] is None
    bad = history(call, settings_app, {"cursor": "bm90LWEtY3Vyc29y"})
    assert (bad["statusCode"], response_json(bad)["error"]["code"]) == (400, "invalid_cursor")


def test_a_stale_write_stores_neither_the_settings_nor_the_entry(
    settings_app: Any, call: Any, seeded: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else's change lands between this PATCH's read and its write: the transaction's
    version condition fails, and the audit entry in it is not written either."""
    repo = settings_app.deps.catalog
    read = repo.catalog_and_version

    def read_then_someone_writes() -> Any:
        catalog, version = read()
        other = CatalogRepository(seeded.table_name, REGION)
        other.save_settings(
            catalog.shop,
            catalog.shop.settings.model_copy(update={"horizon_days": 99}),
            expected_version=version,
        )
        return catalog, version  # what this PATCH read: stale now

    monkeypatch.setattr(repo, "catalog_and_version", read_then_someone_writes)
    response = call(settings_app, patch({"notification_route": "hq", "hq_email": OUTSIDE}, owner=True))
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (409, "concurrent_update")
    monkeypatch.undo()
    after = stored_settings(call, settings_app)["settings"]
    assert after["horizon_days"] == 99 and after["hq_email"] != OUTSIDE
    assert settings_items(seeded) == []


# ------------------------------------------------------------------------------ the public base URL
def test_public_base_url_is_not_a_setting(settings_app: Any, call: Any, seeded: Stack) -> None:
    before = stored_shop(seeded)
    for owner in (False, True):
        response = call(settings_app, patch({"public_base_url": "https://evil.example"}, owner=owner))
        error = response_json(response)["error"]
        assert (response["statusCode"], error["code"]) == (422, "validation_error")
        [detail] = error["details"]
        assert detail["field"] == "changes.public_base_url" and "deploy-time" in detail["message"]
    assert stored_shop(seeded) == before and settings_items(seeded) == []


def test_links_use_the_deploy_time_url_even_when_a_stored_record_has_one(
    seeded: Stack, settings_app: Any, booking_app: Any, call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop record written before public_base_url stopped being a setting still loads (the key
    is dropped on read) and moves no link: the manage link is on the stack's PublicBaseUrl."""
    item = ShopItem.get(keys.SHOP_PK, keys.SHOP_SK)
    item.body = {
        **item.body,
        "settings": {**item.body["settings"], "public_base_url": "https://evil.example"},
    }
    item.save()
    read = stored_settings(call, settings_app)
    assert "public_base_url" not in read["settings"]
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    response = call(booking_app, booking_event())
    assert response["statusCode"] == 201, response["body"]
    manage_url = response_json(response)["manage_url"]
    assert manage_url.startswith(f"{PUBLIC_BASE_URL}/c/") and "evil" not in manage_url
    # The next change writes the record without it.
    assert call(settings_app, patch({"horizon_days": 61}, read["version"]))["statusCode"] == 200
    assert "public_base_url" not in stored_shop(seeded)["body"]["settings"]


def booking_event() -> dict[str, Any]:
    """A booking on the demo shop (taking bookings without a code) at TUESDAY_10, booked at NOW."""
    data: dict[str, Any] = json.loads(load_event("booking_post")["body"])
    data.update({"start": TUESDAY_10.isoformat(), "notes": None})
    event = with_body(load_event("booking_post"), json.dumps(data))
    event["headers"]["Idempotency-Key"] = "settings-test-booking-0001"
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event
