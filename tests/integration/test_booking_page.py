"""The booking page function in process on moto: GET /book answers the page with the strict headers
(a CSP without inline code, no-referrer, nosniff), naming its script and style sheet by content hash
under the stage it was called through; GET /book/assets/{name} serves exactly those two files, cached
for a year, and 404s every other name. The function makes no AWS call (it has no IAM policy: the
`stack` fixture fails a test whose handler calls AWS outside its policy)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from types import ModuleType
from typing import Any

import pytest

from bookbay.api.booking_page import ASSET_DIR, CSP
from tests.integration.conftest import Stack
from tests.support import load_event

pytestmark = pytest.mark.integration
ASSET_PATH = re.compile(r"^/prod/book/assets/(book\.[0-9a-f]{16}\.(?:js|css))$")
EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture
def page_app(stack: Stack) -> ModuleType:
    return stack.load("booking_page", "BookingPageFunction")


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}


def asset_event(name: str) -> dict[str, Any]:
    event = load_event("booking_page_asset")
    event["path"] = f"/book/assets/{name}"
    event["pathParameters"] = {"name": name}
    event["requestContext"]["path"] = f"/prod/book/assets/{name}"
    return event


class _Markup(HTMLParser):
    """What the page's markup holds: its scripts, style sheets, ids, and anything inline."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.ids: set[str] = set()
        self.inline: list[str] = []  # style attributes, on* handlers, <style> elements
        self._in_script = False
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        element_id = attributes.get("id")
        if element_id:
            self.ids.add(element_id)
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
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


def page(page_app: ModuleType, call: Any, event: dict[str, Any]) -> tuple[dict[str, str], str]:
    response = call(page_app, event)
    assert response["statusCode"] == 200, response["body"][:2000]
    return headers_of(response), response["body"]


# ------------------------------------------------------------------------------ the page
def test_the_page_has_strict_headers_and_no_inline_code(page_app: ModuleType, call: Any) -> None:
    # When the page is fetched through the execute-api URL (stage prod)
    headers, body = page(page_app, call, load_event("booking_page_get"))

    # Then it is HTML with the CSP of the brief and the other security headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == EXPECTED_CSP == CSP
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-cache"
    assert "x-robots-tag" not in headers  # the shop's booking page may be found
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
    assert 'data-base="/prod"' in body  # the script calls the API under the same stage


def test_behind_a_custom_domain_the_page_names_root_paths(page_app: ModuleType, call: Any) -> None:
    # Given a request whose path carries no stage (a custom domain, or the local stack)
    event = load_event("booking_page_get")
    event["requestContext"]["path"] = "/book"
    _, body = page(page_app, call, event)
    assert 'data-base=""' in body
    assert re.search(r'src="/book/assets/book\.[0-9a-f]{16}\.js"', body)
    assert re.search(r'href="/book/assets/book\.[0-9a-f]{16}\.css"', body)


def test_a_known_source_link_is_the_same_page_never_indexed(page_app: ModuleType, call: Any) -> None:
    headers, body = page(page_app, call, load_event("booking_page_known_source"))
    assert headers["x-robots-tag"] == "noindex, nofollow"
    assert headers["referrer-policy"] == "no-referrer"  # the token never leaves in a Referer
    assert headers["content-security-policy"] == EXPECTED_CSP
    # The token is read by the script from the address bar, never written into the page
    assert "U291cmNlTGlua0Zyb21UaGVDYW1wYWlnbjE" not in body


# ------------------------------------------------------------------------------ the assets
def test_the_assets_the_page_names_are_served_by_content_hash(page_app: ModuleType, call: Any) -> None:
    _, body = page(page_app, call, load_event("booking_page_get"))
    markup = _Markup()
    markup.feed(body)
    urls = [str(markup.scripts[0]["src"]), markup.stylesheets[0]]
    expected = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    for url in urls:
        found = ASSET_PATH.match(url)
        assert found is not None
        name = found.group(1)
        response = call(page_app, asset_event(name))
        assert response["statusCode"] == 200, response["body"][:500]
        headers = headers_of(response)
        suffix = name.rsplit(".", 1)[1]
        assert headers["content-type"] == expected[suffix]
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        # The body is the source file, and the name's hash is the hash of that body
        source = (ASSET_DIR / f"book.{suffix}").read_text(encoding="utf-8")
        assert response["body"] == source
        assert name.split(".")[1] == hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    "name",
    [
        "book.js",  # the source name: only hashed names are served
        "book.css",
        "book.0000000000000000.js",  # an old (or made-up) hash
        "book.html",
        "..%2Fbook.html",
        "app.py",
        "x" * 300,
    ],
)
def test_any_other_asset_name_is_a_404_page(page_app: ModuleType, call: Any, name: str) -> None:
    response = call(page_app, asset_event(name))
    assert response["statusCode"] == 404, response["body"][:500]
    headers = headers_of(response)
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["referrer-policy"] == "no-referrer"
    assert "There is no such file." in response["body"]


def test_an_unknown_path_of_the_function_is_a_404_page(page_app: ModuleType, call: Any) -> None:
    event = load_event("booking_page_get")
    event["path"] = "/book/elsewhere"
    response = call(page_app, event)
    assert response["statusCode"] == 404
    assert headers_of(response)["content-type"] == "text/html; charset=utf-8"


# ------------------------------------------------------------------------------ page and script agree
def test_every_element_the_script_uses_is_in_the_page() -> None:
    script = (ASSET_DIR / "book.js").read_text(encoding="utf-8")
    markup = _Markup()
    markup.feed((ASSET_DIR / "book.html").read_text(encoding="utf-8"))
    used = set(re.findall(r'\$\("([a-z0-9-]+)"\)', script))
    field_targets = script.split("const FIELD_TARGETS")[1].split("};")[0]
    targets = set(re.findall(r':\s+"([a-z0-9-]+)",?$', field_targets, re.M))
    steps = set(re.findall(r'"(step-[a-z]+)"', script))
    assert used and targets and steps
    missing = (used | targets | steps) - markup.ids
    assert missing == set(), missing
    # Every field a 422 can name has a place for its message
    assert {f"{target}-error" for target in targets} <= markup.ids


def test_the_script_never_writes_markup_or_evaluates_strings() -> None:
    lines = (ASSET_DIR / "book.js").read_text(encoding="utf-8").splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("//"))  # code, not comments
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert banned not in script, banned
    assert 'setTimeout("' not in script and 'setInterval("' not in script
    assert "http://" not in script and "https://" not in script  # the API is on the page's origin
