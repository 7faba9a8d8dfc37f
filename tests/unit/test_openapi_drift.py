"""The committed OpenAPI document is the one the routes generate, and it matches template.yaml.

When this fails after a route change: run `make openapi` and commit
layers/common/bookbay/openapi.json.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from scripts import openapi as openapi_script

# Served by the docs function itself, not part of the API it describes.
UNDOCUMENTED_PREFIXES = ("/swagger",)
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})


@cache
def generated_text() -> str:
    # A fresh interpreter: importing the handlers binds storage models and reads the environment.
    result = subprocess.run(
        [sys.executable, str(openapi_script.ROOT / "scripts" / "openapi.py"), "--stdout"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=openapi_script.ROOT,
    )
    assert result.returncode == 0, f"scripts/openapi.py failed:\n{result.stderr}"
    return result.stdout


@cache
def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi_script.OUTPUT.read_text(encoding="utf-8"))
    return document


@cache
def template_routes() -> dict[str, dict[str, Any]]:
    """``"METHOD /path"`` -> the Api event's properties, for every Api event in template.yaml."""
    routes: dict[str, dict[str, Any]] = {}
    template = openapi_script.load_template()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                routes[f"{str(props['Method']).upper()} {props['Path']}"] = props
    return routes


def documented_routes() -> set[str]:
    return set(openapi_script.operations(committed()))


def _excluded_route(decorator: ast.expr) -> str | None:
    """``"METHOD /path"`` when ``decorator`` is ``@app.<method>("<path>", ..., include_in_schema=False)``."""
    if not (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in HTTP_METHODS
        and decorator.args
        and isinstance(decorator.args[0], ast.Constant)
        and isinstance(decorator.args[0].value, str)
    ):
        return None
    excluded = any(
        k.arg == "include_in_schema" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in decorator.keywords
    )
    path = re.sub(r"<(\w+)>", r"{\1}", decorator.args[0].value)
    return f"{decorator.func.attr.upper()} {path}" if excluded else None


@cache
def routes_excluded_from_schema() -> set[str]:
    """Routes whose handlers opt out of the document (``include_in_schema=False``): the pages that
    answer HTML (links in e-mails) and the docs themselves. Read from the source of the handlers
    and of the route modules they register (``bookbay.api.routes``)."""
    routes: set[str] = set()
    route_modules = sorted((openapi_script.LAYER / "bookbay" / "api" / "routes").glob("*.py"))
    for path in [*openapi_script.handler_files(), *route_modules]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                routes.update(r for d in node.decorator_list if (r := _excluded_route(d)) is not None)
    return routes


def test_committed_document_is_the_generated_one() -> None:
    # Given the routes as they are now
    generated = generated_text()
    # Then the committed document is byte-for-byte what they generate
    if openapi_script.OUTPUT.read_text(encoding="utf-8") != generated:
        summary = "\n".join(openapi_script.diff_summary(committed(), json.loads(generated)))
        pytest.fail(
            "layers/common/bookbay/openapi.json is stale: run `make openapi` and commit it.\n" + summary,
            pytrace=False,
        )


def test_every_template_route_is_documented() -> None:
    in_template = {
        route
        for route in template_routes()
        if not route.split(" ", 1)[1].startswith(UNDOCUMENTED_PREFIXES)
        and route not in routes_excluded_from_schema()
    }
    missing = sorted(in_template - documented_routes())
    assert not missing, f"routes in template.yaml without an operation in the OpenAPI document: {missing}"


def test_routes_left_out_of_the_document_are_routed_by_the_template() -> None:
    excluded = routes_excluded_from_schema()
    assert "GET /s/{token}" in excluded  # the staff pages: HTML, not part of the JSON API
    missing = sorted(excluded - set(template_routes()))
    assert not missing, (
        f"handler routes with include_in_schema=False that template.yaml does not route: {missing}"
    )


def test_every_documented_route_is_in_the_template() -> None:
    extra = sorted(documented_routes() - set(template_routes()))
    assert not extra, f"operations in the OpenAPI document that template.yaml does not route: {extra}"


def test_staff_routes_require_the_staff_scheme() -> None:
    document = committed()
    assert openapi_script.STAFF_SCHEME in document["components"]["securitySchemes"]
    for route, operation in openapi_script.operations(document).items():
        path = route.split(" ", 1)[1]
        authorized = template_routes().get(route, {}).get("Auth", {}).get("Authorizer") == "StaffCognito"
        secured = operation.get("security") == [{openapi_script.STAFF_SCHEME: []}]
        # The document says a token is needed exactly where the gateway asks for one
        assert secured == authorized, f"{route}: security {operation.get('security')} vs template auth"
        if path.startswith("/v1/admin"):
            assert secured, f"{route} is an admin route without the {openapi_script.STAFF_SCHEME} scheme"


def test_every_operation_has_summary_tags_and_responses() -> None:
    for route, operation in openapi_script.operations(committed()).items():
        assert operation.get("summary"), f"{route} has no summary"
        assert operation.get("tags"), f"{route} has no tags"
        codes = set(operation.get("responses", {}))
        assert any(code.startswith("2") for code in codes), f"{route} documents no success response"
        assert "422" in codes, f"{route} does not document the validation error"
