"""The docs function serves the committed OpenAPI document and a Swagger UI with local assets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import load_event, with_query

pytestmark = pytest.mark.integration


def test_the_openapi_document_is_served_with_the_stage_as_server(docs_app: Any, call: Any) -> None:
    response = call(docs_app, load_event("docs_swagger_json"))
    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    assert document["openapi"].startswith("3.")
    assert {"/v1/shop", "/v1/locations", "/v1/locations/{location_id}", "/v1/admin/settings"} <= set(
        document["paths"]
    )
    assert document["servers"] == [{"url": "/prod"}]  # the sample event came through the execute-api URL


def test_the_swagger_page_uses_its_own_assets(docs_app: Any, call: Any) -> None:
    page = call(docs_app, with_query(load_event("docs_swagger_json"), None))
    assert page["statusCode"] == 200 and "text/html" in page["multiValueHeaders"]["Content-Type"][0]
    assert "/prod/swagger/swagger-ui-bundle.min.js" in page["body"]
    assert "unpkg" not in page["body"] and "cdn" not in page["body"].lower()
    event = load_event("docs_swagger_json")
    event.update(
        path="/swagger/swagger-ui.min.css",
        resource="/swagger/{asset}",
        pathParameters={"asset": "swagger-ui.min.css"},
        queryStringParameters=None,
    )
    asset = call(docs_app, event)
    assert (asset["statusCode"], asset["multiValueHeaders"]["Content-Type"][0]) == (200, "text/css")
    event.update(path="/swagger/..%2Fapp.py", pathParameters={"asset": "../app.py"})
    assert call(docs_app, event)["statusCode"] == 404
