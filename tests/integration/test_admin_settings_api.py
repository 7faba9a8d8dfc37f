"""Staff settings: group check, validation, optimistic locking, and bad bodies changing nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support import load_event, response_json, with_body

pytestmark = pytest.mark.integration


def patch(changes: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"changes": changes}
    if version is not None:
        body["version"] = version
    return with_body(load_event("admin_settings_patch"), json.dumps(body))


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
        (lambda: patch({"notification_route": "hq", "hq_email": None}), 422, "validation_error"),
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
