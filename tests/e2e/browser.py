"""Debian's Chromium for the browser tests: where it is, the flags it runs with on this closed
network, and the rule that a missing browser fails the run (``make deps-system`` installs it).

Only ``SKIP_SYSTEM_DEPS=1`` (the Makefile's opt-out of apt-get) turns the failure into a skip, so a
machine that could not install Chromium never reports the browser tests as passed.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox (root in CI), no GPU, and none of the background connections this network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The same, for a bare `chromium --headless --dump-dom` run.
HEADLESS_FLAGS = ["--headless", *ARGS, "--no-first-run"]
# An init script (init scripts are not subject to the CSP) that records every CSP violation of a
# page in window.__cspViolations, from before the page's own script runs.
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def require_chromium() -> None:
    """Call at a browser test module's top: fails its collection when Chromium is missing
    (skips it under SKIP_SYSTEM_DEPS=1)."""
    if shutil.which(CHROMIUM):
        return
    if os.environ.get("SKIP_SYSTEM_DEPS") == "1":  # pragma: no cover - CI installs chromium
        pytest.skip("no chromium, and SKIP_SYSTEM_DEPS=1", allow_module_level=True)
    pytest.fail(  # pragma: no cover
        f"no chromium at {CHROMIUM}: run `make deps-system` (as root), or set SKIP_SYSTEM_DEPS=1 "
        "to skip the browser tests",
        pytrace=False,
    )
