"""The admin page function in process on moto: GET /admin answers the page with the strict headers
(a CSP without inline code, no-referrer, nosniff, never cached or indexed), naming its script and
style sheet by content hash under the stage it was called through; GET /admin/assets/{name} serves
exactly those two files; GET /admin/config.json says how the page signs staff in: locally the
stand-in's POST /_local/token, in AWS the Cognito hosted UI, with the app client's id looked up in
the user pool by name (moto's Cognito), once per container. With Cognito sign-in the hosted UI's
origin, and only it, is added to the CSP's connect-src (the page exchanges the code there).

The `stack` fixture fails a test whose handler calls AWS outside the function's IAM policy."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from types import ModuleType
from typing import Any

import boto3
import pytest

from bookbay.adapters.cognito import InMemoryAppClients
from bookbay.api import admin_page
from bookbay.api.page_assets import script_page_csp, security_headers
from bookbay.config import AdminPageConfig, ConfigError
from tests.integration.conftest import REGION, Stack
from tests.support import load_event

pytestmark = pytest.mark.integration
FUNCTION = "AdminPageFunction"
ASSET_PATH = re.compile(r"^/prod/admin/assets/(admin\.[0-9a-f]{16}\.(?:js|css))$")
LOCAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SIGN_IN_HOST = "bookbay-test-shop.auth.us-east-1.amazoncognito.com"
CLIENT_NAME = "bookbay-admin"


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}


def asset_event(name: str) -> dict[str, Any]:
    event = load_event("admin_page_asset")
    event["path"] = f"/admin/assets/{name}"
    event["pathParameters"] = {"name": name}
    event["requestContext"]["path"] = f"/prod/admin/assets/{name}"
    return event


class _Markup(HTMLParser):
    """What the page's markup holds: its scripts, style sheets, ids, and anything inline."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.ids: set[str] = set()
        self.inline: list[str] = []  # style attributes, on* handlers, <style> elements, javascript: URLs
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        for name, value in attrs:
            if (
                name == "style"
                or name.startswith("on")
                or (value or "").strip().lower().startswith("javascript:")
            ):
                self.inline.append(f"<{tag} {name}>")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def local_app(stack: Stack) -> ModuleType:
    """The function as the local stack runs it (ADMIN_SIGN_IN=local)."""
    assert stack.env(FUNCTION)["ADMIN_SIGN_IN"] == "local"
    return stack.load("admin_page", FUNCTION)


@pytest.fixture
def user_pool(stack: Stack) -> tuple[str, str]:
    """A staff user pool in moto holding more app clients than one page of ListUserPoolClients,
    the page's (named as the template names it) last: (pool id, client id)."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName="bookbay-test-staff")["UserPool"]["Id"]
    for number in range(61):
        cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=f"other-app-{number}")
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=CLIENT_NAME)["UserPoolClient"][
        "ClientId"
    ]
    return pool_id, client_id


@pytest.fixture
def cognito_app(stack: Stack, user_pool: tuple[str, str]) -> Callable[..., ModuleType]:
    """The function as the template deploys it (ADMIN_SIGN_IN=cognito), on moto's user pool."""

    def load(**overrides: str) -> ModuleType:
        env = {
            **stack.env(FUNCTION),
            "ADMIN_SIGN_IN": "cognito",
            "STAFF_USER_POOL_ID": user_pool[0],
            "STAFF_SIGN_IN_DOMAIN": SIGN_IN_HOST,
            **overrides,
        }
        stack.functions[FUNCTION] = dataclasses.replace(stack.functions[FUNCTION], environment=env)
        return stack.load("admin_page", FUNCTION)

    return load


def page(app: ModuleType, call: Any, event: dict[str, Any]) -> tuple[dict[str, str], str]:
    response = call(app, event)
    assert response["statusCode"] == 200, response["body"][:2000]
    return headers_of(response), response["body"]


# ------------------------------------------------------------------------------ the page
def test_the_page_has_strict_headers_and_no_inline_code(local_app: ModuleType, call: Any) -> None:
    # When the page is fetched through the execute-api URL (stage prod) of a local stack
    headers, body = page(local_app, call, load_event("admin_page_get"))

    # Then it is HTML with the booking page's CSP (the API on this origin only) and the other headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == LOCAL_CSP == script_page_csp()
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    # never cached (the hosted UI comes back with a one-time code in the URL), never indexed
    assert headers["cache-control"] == "no-store"
    assert headers["x-robots-tag"] == "noindex, nofollow"
    # And the markup has one module script and one style sheet, both its own, nothing inline
    markup = _Markup()
    markup.feed(body)
    assert markup.inline == []
    assert markup.script_text.strip() == ""
    assert len(markup.scripts) == 1 and markup.scripts[0]["type"] == "module"
    assert ASSET_PATH.match(str(markup.scripts[0]["src"])), markup.scripts
    assert len(markup.stylesheets) == 1 and ASSET_PATH.match(markup.stylesheets[0]), markup.stylesheets
    assert "http://" not in body and "https://" not in body  # no CDN, no external anything
    assert '<html lang="en">' in body and '<meta name="viewport"' in body
    assert 'data-base="/prod"' in body  # the script calls the API (and config.json) under the stage


def test_the_headers_are_the_booking_pages(local_app: ModuleType, call: Any) -> None:
    # The two pages with their own script follow one policy (bookbay.api.page_assets); until the
    # booking page uses that module, this keeps the copies equal.
    from bookbay.api import booking_page

    headers, _ = page(local_app, call, load_event("admin_page_get"))
    assert security_headers(script_page_csp()) == booking_page.SECURITY_HEADERS
    for name, value in booking_page.SECURITY_HEADERS.items():
        assert headers[name.lower()] == value


def test_behind_a_custom_domain_the_page_names_root_paths(local_app: ModuleType, call: Any) -> None:
    event = load_event("admin_page_get")
    event["requestContext"]["path"] = "/admin"
    _, body = page(local_app, call, event)
    assert 'data-base=""' in body
    assert re.search(r'src="/admin/assets/admin\.[0-9a-f]{16}\.js"', body)
    assert re.search(r'href="/admin/assets/admin\.[0-9a-f]{16}\.css"', body)


def test_the_hosted_ui_callback_is_the_same_page_and_the_code_stays_out_of_it(
    cognito_app: Callable[..., ModuleType], call: Any
) -> None:
    # Given the Cognito hosted UI sends staff back with ?code=&state=
    app = cognito_app()
    event = load_event("admin_page_callback")
    headers, body = page(app, call, event)
    # Then the page is the same, never cached, and the code is read by the script, not the server
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"  # the code never leaves in a Referer
    assert event["queryStringParameters"]["code"] not in body
    assert event["queryStringParameters"]["state"] not in body


def test_with_cognito_the_csp_adds_only_the_hosted_ui_origin(
    cognito_app: Callable[..., ModuleType], call: Any
) -> None:
    headers, _ = page(cognito_app(), call, load_event("admin_page_get"))
    csp = headers["content-security-policy"]
    assert csp == script_page_csp(connect_src=[f"https://{SIGN_IN_HOST}"])
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["connect-src"] == f"'self' https://{SIGN_IN_HOST}"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


# ------------------------------------------------------------------------------ sign-in settings
def test_locally_config_json_names_the_stand_in_token_route(local_app: ModuleType, call: Any) -> None:
    response = call(local_app, load_event("admin_page_config"))
    assert response["statusCode"] == 200, response["body"]
    headers = headers_of(response)
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    assert json.loads(response["body"]) == {
        "sign_in": "local",
        "client_id": None,
        "authorize_url": None,
        "token_url": None,
        "logout_url": None,
        "scopes": [],
        "local_token_path": "/_local/token",
    }


def test_with_cognito_config_json_has_the_hosted_ui_and_the_app_client_found_by_name(
    stack: Stack, cognito_app: Callable[..., ModuleType], user_pool: tuple[str, str], call: Any
) -> None:
    # Given the function as deployed: Cognito sign-in, the pool's client found by its name
    app = cognito_app()
    # When the page asks how to sign in
    response = call(app, load_event("admin_page_config"))
    # Then it gets the hosted UI's endpoints and the app client's id (found on the second page)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"]) == {
        "sign_in": "cognito",
        "client_id": user_pool[1],
        "authorize_url": f"https://{SIGN_IN_HOST}/oauth2/authorize",
        "token_url": f"https://{SIGN_IN_HOST}/oauth2/token",
        "logout_url": f"https://{SIGN_IN_HOST}/logout",
        "scopes": ["openid", "email"],
        "local_token_path": None,
    }
    # And the lookup was a call its IAM policy grants (the fixture checks it), and only that one
    assert stack.calls[FUNCTION] == {"cognito-idp:ListUserPoolClients"}


def test_the_app_client_is_looked_up_once_per_container(
    cognito_app: Callable[..., ModuleType],
    user_pool: tuple[str, str],
    call: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = InMemoryAppClients({(user_pool[0], CLIENT_NAME): "client-from-the-fake"})
    # The function's wiring (bookbay.wiring.admin_page) asks this fake instead of Cognito
    monkeypatch.setattr("bookbay.adapters.cognito.CognitoAppClients", lambda region: fake)
    app = cognito_app()
    for _ in range(3):
        response = call(app, load_event("admin_page_config"))
        assert json.loads(response["body"])["client_id"] == "client-from-the-fake"
    assert fake.lookups == 1


def test_a_missing_app_client_is_a_503_json_error_tried_again_next_time(
    cognito_app: Callable[..., ModuleType], user_pool: tuple[str, str], call: Any
) -> None:
    # Given a pool without a client of the configured name
    app = cognito_app(STAFF_APP_CLIENT_NAME="no-such-client")
    response = call(app, load_event("admin_page_config"))
    # Then the page's script gets a JSON error it can show
    assert response["statusCode"] == 503, response["body"]
    assert headers_of(response)["content-type"] == "application/json"
    assert json.loads(response["body"])["error"]["code"] == "sign_in_not_configured"
    # And once ops create the client, the same container finds it (failures are not kept)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    created = cognito.create_user_pool_client(UserPoolId=user_pool[0], ClientName="no-such-client")
    response = call(app, load_event("admin_page_config"))
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["client_id"] == created["UserPoolClient"]["ClientId"]


def test_an_unknown_user_pool_is_a_503_not_a_crash(cognito_app: Callable[..., ModuleType], call: Any) -> None:
    app = cognito_app(STAFF_USER_POOL_ID="us-east-1_NoSuchPool")
    response = call(app, load_event("admin_page_config"))
    assert response["statusCode"] == 503, response["body"]
    assert json.loads(response["body"])["error"]["code"] == "sign_in_not_configured"


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "ADMIN_SIGN_IN"),
        ({"ADMIN_SIGN_IN": "password"}, "ADMIN_SIGN_IN"),
        ({"ADMIN_SIGN_IN": "cognito"}, "STAFF_USER_POOL_ID"),
        (
            {
                "ADMIN_SIGN_IN": "cognito",
                "STAFF_USER_POOL_ID": "us-east-1_abc",
                "STAFF_APP_CLIENT_NAME": CLIENT_NAME,
                "STAFF_SIGN_IN_DOMAIN": f"https://{SIGN_IN_HOST}/",
            },
            "STAFF_SIGN_IN_DOMAIN",
        ),
    ],
)
def test_a_bad_sign_in_setting_fails_the_cold_start(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        AdminPageConfig.from_env({"TABLE_NAME": "t", "SHOP_NAME": "Shop", **environ})


def test_the_template_names_the_app_client_the_function_looks_for(stack: Stack) -> None:
    template = stack.resolver.template
    client = template.properties("StaffUserPoolClient")
    env = template.properties(FUNCTION)["Environment"]["Variables"]
    assert env["ADMIN_SIGN_IN"] == "cognito"  # in AWS; the local stack overrides it
    assert env["STAFF_APP_CLIENT_NAME"] == client["ClientName"]
    assert env["STAFF_USER_POOL_ID"] == {"Ref": "StaffUserPool"}
    # The hosted UI sends staff back to the page (code flow with PKCE: a public client)
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert "openid" in client["AllowedOAuthScopes"] and "email" in client["AllowedOAuthScopes"]
    api_page = "https://${BookbayApi}.execute-api.${AWS::Region}.amazonaws.com/${Environment}/admin"
    assert client["CallbackURLs"] == [{"Fn::Sub": "${PublicBaseUrl}/admin"}, {"Fn::Sub": api_page}]
    assert client["CallbackURLs"] == client["LogoutURLs"]
    assert template.resource_type("StaffUserPoolDomain") == "AWS::Cognito::UserPoolDomain"
    # The page is public: none of its routes has the staff authorizer
    for event in template.properties(FUNCTION)["Events"].values():
        assert "Auth" not in event["Properties"], event


# ------------------------------------------------------------------------------ the assets
def test_the_assets_the_page_names_are_served_by_content_hash(local_app: ModuleType, call: Any) -> None:
    _, body = page(local_app, call, load_event("admin_page_get"))
    markup = _Markup()
    markup.feed(body)
    expected = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    for url in [str(markup.scripts[0]["src"]), markup.stylesheets[0]]:
        found = ASSET_PATH.match(url)
        assert found is not None
        name = found.group(1)
        response = call(local_app, asset_event(name))
        assert response["statusCode"] == 200, response["body"][:500]
        headers = headers_of(response)
        suffix = name.rsplit(".", 1)[1]
        assert headers["content-type"] == expected[suffix]
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == LOCAL_CSP
        source = (admin_page.BUNDLE.directory / f"admin.{suffix}").read_text(encoding="utf-8")
        assert response["body"] == source
        assert name.split(".")[1] == hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    "name",
    [
        "admin.js",
        "admin.css",
        "admin.0000000000000000.js",
        "admin.html",
        "..%2Fadmin.html",
        "app.py",
        "x" * 300,
    ],
)
def test_any_other_asset_name_is_a_404_page(local_app: ModuleType, call: Any, name: str) -> None:
    response = call(local_app, asset_event(name))
    assert response["statusCode"] == 404, response["body"][:500]
    headers = headers_of(response)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["referrer-policy"] == "no-referrer"
    assert "There is no such file." in response["body"]


def test_a_booking_page_asset_is_not_served_here(local_app: ModuleType, call: Any) -> None:
    from bookbay.api.booking_page import assets

    response = call(local_app, asset_event(assets()["book.js"].name))
    assert response["statusCode"] == 404


def test_an_unknown_path_of_the_function_is_a_404_page(local_app: ModuleType, call: Any) -> None:
    event = load_event("admin_page_get")
    event["path"] = "/admin/elsewhere"
    response = call(local_app, event)
    assert response["statusCode"] == 404
    assert headers_of(response)["content-type"] == "text/html; charset=utf-8"


# ------------------------------------------------------------------------------ page and script agree
def test_every_element_the_script_uses_is_in_the_page() -> None:
    directory = admin_page.BUNDLE.directory
    script = (directory / "admin.js").read_text(encoding="utf-8")
    markup = _Markup()
    markup.feed((directory / "admin.html").read_text(encoding="utf-8"))
    used = set(re.findall(r'\$\("([a-z0-9-]+)"\)', script))
    sections = set(re.findall(r'section: "([a-z0-9-]+)"', script))
    assert used and sections
    missing = (used | sections) - markup.ids
    assert missing == set(), missing


def test_the_script_never_writes_markup_or_evaluates_strings() -> None:
    lines = (admin_page.BUNDLE.directory / "admin.js").read_text(encoding="utf-8").splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("//"))
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert banned not in script, banned
    assert 'setTimeout("' not in script and 'setInterval("' not in script
    assert "http://" not in script and "https://" not in script  # the hosted UI's URLs come from config.json
    # The token is kept in sessionStorage only
    assert "localStorage" not in script and "document.cookie" not in script
