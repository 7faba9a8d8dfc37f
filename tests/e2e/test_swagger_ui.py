"""The Swagger UI renders in headless Chromium from the stack's own assets (no CDN, no network)."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, HEADLESS_FLAGS, require_chromium

pytestmark = pytest.mark.e2e
require_chromium()


def test_swagger_ui_lists_the_api(local_stack: Any) -> None:
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                CHROMIUM,
                *HEADLESS_FLAGS,
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{local_stack.base_url}/swagger",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        ).stdout
    assert "Bookbay API" in dom
    for path in ["/v1/shop", "/v1/locations/{location_id}", "/v1/admin/settings"]:
        assert path in dom
    assert "Loading..." not in dom
