"""The catalog function's routes, in process, on moto tables created from the template."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import load_event, response_json, with_body, with_query

pytestmark = pytest.mark.integration


def test_the_shop_answers_with_its_locations_and_services(catalog_app: Any, call: Any) -> None:
    response = call(catalog_app, load_event("catalog_get_shop"))
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["shop"] == {
        "id": "bookbay-demo-auto",
        "name": "Bookbay Demo Auto",
        "timezone": "America/Chicago",
        "phone": "+15125550199",
        "booking_mode": "request",
        "reschedule_requests_enabled": True,
        "verification_channels": ["sms", "email"],
        "require_verification": False,
    }
    assert [loc["id"] for loc in body["locations"]] == ["austin-downtown", "phoenix-camelback"]
    austin = body["locations"][0]
    assert (austin["zip"], austin["timezone"], austin["phone"]) == (
        "78701",
        "America/Chicago",
        "+15125550100",
    )
    assert austin["appointment_types"] == ["in_store", "online", "at_home"]
    assert austin["weekly_hours"]["sat"] == [{"opens": "08:00", "closes": "12:00"}]
    assert {s["id"]: s["duration_minutes"] for s in body["services"]} == {
        "brake-inspection": 90,
        "oil-change": 30,
        "repair-estimate": 30,
    }
    assert response["multiValueHeaders"]["Content-Type"][0] == "application/json"


@pytest.mark.parametrize(
    ("zip_code", "first"), [("78759", "austin-downtown"), ("85001", "phoenix-camelback")]
)
def test_locations_near_a_zip_are_nearest_first(
    catalog_app: Any, call: Any, zip_code: str, first: str
) -> None:
    response = call(catalog_app, with_query(load_event("catalog_locations_near"), {"near": zip_code}))
    assert response["statusCode"] == 200
    locations = response_json(response)["locations"]
    assert locations[0]["id"] == first
    distances = [loc["distance_miles"] for loc in locations]
    assert distances == sorted(distances) and distances[0] < 20 and distances[-1] > 700


def test_without_near_every_location_is_listed_without_distance(catalog_app: Any, call: Any) -> None:
    response = call(catalog_app, with_query(load_event("catalog_locations_near"), None))
    assert [loc["distance_miles"] for loc in response_json(response)["locations"]] == [None, None]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"near": "00000"}, "unknown_zip", "query.near"),
        ({"near": "7870"}, "validation_error", "query.near"),
        ({"near": "78701x"}, "validation_error", "query.near"),
        ({"near": ""}, "validation_error", "query.near"),
    ],
)
def test_a_bad_or_unknown_zip_is_a_422_with_a_clear_message(
    catalog_app: Any, call: Any, query: dict[str, str], code: str, field: str
) -> None:
    response = call(catalog_app, with_query(load_event("catalog_locations_near"), query))
    assert response["statusCode"] == 422
    error = response_json(response)["error"]
    assert error["code"] == code and error["message"]
    assert error["details"][0]["field"] == field


def test_one_location_and_unknown_or_malformed_ids(catalog_app: Any, call: Any) -> None:
    event = load_event("catalog_get_location")
    assert response_json(call(catalog_app, event))["location"]["name"] == "Austin Downtown"
    for location_id, status, code in [
        ("nowhere", 404, "location_not_found"),
        ("UPPER", 422, "validation_error"),
        ("a%2Fb", 422, "validation_error"),
    ]:
        event = load_event("catalog_get_location")
        event["path"] = f"/v1/locations/{location_id}"
        event["pathParameters"] = {"location_id": location_id}
        response = call(catalog_app, event)
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (status, code)


def test_unknown_routes_and_methods_are_404_json(catalog_app: Any, call: Any) -> None:
    event = load_event("catalog_get_shop")
    event["path"] = event["resource"] = "/v1/shops"
    assert response_json(call(catalog_app, event))["error"]["code"] == "not_found"
    event = with_body(load_event("catalog_get_shop"), "{}")
    event["httpMethod"] = "DELETE"
    response = call(catalog_app, event)
    assert (response["statusCode"], response_json(response)["error"]["code"]) == (404, "not_found")


def test_a_stack_without_a_shop_says_so(empty_catalog_app: Any, call: Any) -> None:
    response = call(empty_catalog_app, load_event("catalog_get_shop"))
    assert response["statusCode"] == 503
    assert response_json(response)["error"]["code"] == "shop_not_configured"
