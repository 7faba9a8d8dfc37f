"""The OpenAPI document (generated from the routes by scripts/openapi.py, shipped in the layer)
and the Swagger UI page with Powertools' bundled assets (no CDN)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import aws_lambda_powertools

import bookbay

OPENAPI_PATH = Path(bookbay.__file__).parent / "openapi.json"
_SWAGGER_DIR = Path(aws_lambda_powertools.__file__).parent / "event_handler/openapi/swagger_ui"
SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "application/javascript",
    "swagger-ui.min.css": "text/css",
}


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def openapi_json(server_url: str) -> str:
    """The document with ``servers`` set to where it is served from."""
    document = dict(openapi_document())
    document["servers"] = [{"url": server_url}]
    return json.dumps(document)


@cache
def swagger_asset(name: str) -> str | None:
    if name not in SWAGGER_ASSETS:
        return None
    return (_SWAGGER_DIR / name).read_text(encoding="utf-8")


def swagger_page(spec_json: str, asset_base: str) -> str:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    return generate_swagger_html(
        spec_json.replace("</", "<\\/"),
        f"{asset_base}/swagger-ui-bundle.min.js",
        f"{asset_base}/swagger-ui.min.css",
        asset_base,
        None,
    )
