"""Staff sign-in in the template (issue 14, item 8): a TOTP code at every sign-in, threat
protection enforced (the Plus plan), and the staff functions told which tokens are theirs: the
user pool by environment (their ``iss``), the app client by the API stage's variable (their
``aud``; an environment variable would be a dependency cycle)."""

from __future__ import annotations

from typing import Any

import pytest

from bookbay.api.auth import APP_CLIENT_STAGE_VARIABLE
from tests.infrastructure.test_template import (
    STAFF_AUTHORIZER,
    Template,
    api_events,
    functions,
    props,
    resources_of,
)

pytestmark = pytest.mark.infrastructure


def staff_functions(template: Template) -> set[str]:
    """Functions with a route behind the staff authorizer."""
    return {
        fn
        for fn, _, event in api_events(template)
        if (event.get("Auth") or {}).get("Authorizer") == STAFF_AUTHORIZER
    }


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether ``value`` names ``logical_id`` (Ref, GetAtt or inside a Sub), at any depth."""
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] == logical_id:
            return True
        sub = value.get("Fn::Sub")
        text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) else ""
        if f"${{{logical_id}}}" in text or f"${{{logical_id}." in text:
            return True
        return any(refers_to(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(refers_to(v, logical_id) for v in value)
    return False


def test_every_staff_sign_in_needs_a_totp_code(template: Template) -> None:
    pool = props(template["Resources"]["StaffUserPool"])
    # "ON" as a string: unquoted, YAML would read the boolean true, which CloudFormation refuses.
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # no SMS codes (SIM swaps, SMS cost)
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}


def test_threat_protection_is_enforced_on_the_plus_plan(template: Template) -> None:
    pool = props(template["Resources"]["StaffUserPool"])
    assert pool["UserPoolTier"] == "PLUS"  # threat protection is a Plus feature
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    (risk,) = resources_of(template, "AWS::Cognito::UserPoolRiskConfigurationAttachment").values()
    risk = props(risk)
    assert risk["UserPoolId"] == {"Ref": "StaffUserPool"}
    assert risk["ClientId"] == "ALL"
    assert risk["CompromisedCredentialsRiskConfiguration"]["Actions"] == {"EventAction": "BLOCK"}
    actions = risk["AccountTakeoverRiskConfiguration"]["Actions"]
    assert actions["HighAction"]["EventAction"] == "BLOCK"
    assert all(action["EventAction"] != "NO_ACTION" for action in actions.values())


def test_the_app_client_is_public_short_lived_and_reveals_no_users(template: Template) -> None:
    client = props(template["Resources"]["StaffUserPoolClient"])
    assert client["UserPoolId"] == {"Ref": "StaffUserPool"}
    assert client["GenerateSecret"] is False  # PKCE from the browser
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    units = client["TokenValidityUnits"]
    assert (client["IdTokenValidity"], units["IdToken"]) == (1, "hours")
    assert (client["AccessTokenValidity"], units["AccessToken"]) == (1, "hours")
    assert 3 <= client["AuthSessionValidity"] <= 15


def test_every_staff_function_knows_its_user_pool(template: Template) -> None:
    staff = staff_functions(template)
    assert len(staff) >= 6
    for name in staff:
        env = props(functions(template)[name])["Environment"]["Variables"]
        assert env["STAFF_USER_POOL_ID"] == {"Ref": "StaffUserPool"}, name


def test_the_api_stage_names_the_app_client_and_no_function_does(template: Template) -> None:
    api = props(template["Resources"]["BookbayApi"])
    assert api["Variables"] == {APP_CLIENT_STAGE_VARIABLE: {"Ref": "StaffUserPoolClient"}}
    # The client's callback URLs name the API, whose definition names every function: a function
    # naming the client would be a cycle CloudFormation refuses.
    assert refers_to(props(template["Resources"]["StaffUserPoolClient"]), "BookbayApi")
    for name, fn in functions(template).items():
        assert not refers_to(fn, "StaffUserPoolClient"), name
