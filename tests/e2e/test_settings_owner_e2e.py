"""Owner-only settings over HTTP on the local stack (issue 14, item 1): a staff token outside the
owner group cannot move the shop's mail (403 owner_required, nothing changes); an owner can, and
the settings history says who, with the value before and after; public_base_url is not a setting."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e
OUTSIDE = f"inbox-{uuid.uuid4().hex[:8]}@outside.example.net"


def test_only_an_owner_moves_the_shops_mail_and_the_history_says_who(
    http: httpx.Client, staff: dict[str, str], owner: dict[str, str]
) -> None:
    before: dict[str, Any] = http.get("/v1/admin/settings", headers=staff).json()
    assert before["owner"] is False and "hq_email" in before["owner_only"]

    refused = http.patch("/v1/admin/settings", json={"changes": {"hq_email": OUTSIDE}}, headers=staff)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "owner_required"
    assert [d["field"] for d in error["details"]] == ["changes.hq_email"]
    assert http.get("/v1/admin/settings", headers=staff).json() == before

    moved = http.patch(
        "/v1/admin/settings",
        json={"version": before["version"], "changes": {"hq_email": OUTSIDE}},
        headers=owner,
    )
    assert moved.status_code == 200, moved.text
    try:
        assert moved.json()["settings"]["hq_email"] == OUTSIDE and moved.json()["owner"] is True
        history = http.get("/v1/admin/settings/history", params={"limit": 1}, headers=staff)
        assert history.status_code == 200, history.text
        [latest] = history.json()["history"]
        assert latest["action"] == "settings.change"
        assert latest["actor"]["email"] == "owner@example.com"
        assert latest["actor"]["sub"].startswith("e2e-owner-")
        assert latest["changes"] == {"hq_email": {"before": before["settings"]["hq_email"], "after": OUTSIDE}}
    finally:
        back = http.patch(
            "/v1/admin/settings",
            json={"changes": {"hq_email": before["settings"]["hq_email"]}},
            headers=owner,
        )
        assert back.status_code == 200, back.text


def test_public_base_url_is_a_deploy_time_parameter(http: httpx.Client, owner: dict[str, str]) -> None:
    response = http.patch(
        "/v1/admin/settings", json={"changes": {"public_base_url": "https://evil.example"}}, headers=owner
    )
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "changes.public_base_url" and "deploy-time" in detail["message"]
