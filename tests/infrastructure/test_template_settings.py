"""template.yaml and the shop settings (issue 14): the links' base URL is a deploy-time parameter
(https, required), the owner group exists and reaches the settings function, and an alarm watches
changes of the owner-only settings."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bookbay.api.routes.admin_settings import SECURITY_CHANGED_METRIC
from bookbay.observability import METRICS_NAMESPACE

pytestmark = pytest.mark.infrastructure
Template = dict[str, Any]


def props(template: Template, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return properties


def test_public_base_url_is_a_required_https_parameter(template: Template) -> None:
    parameter = template["Parameters"]["PublicBaseUrl"]
    assert "Default" not in parameter  # every deploy names it (samconfig.toml: each shop does)
    pattern = parameter["AllowedPattern"]
    for good in (
        "https://book.example-shop.com",
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
        "https://book.example.com:8443/shop",
    ):
        assert re.fullmatch(pattern, good), good
    for bad in (
        "",
        "http://book.example-shop.com",
        "https://book.example-shop.com/",
        "https://book.example.com/prod/",
        "https://book.example.com?next=x",
        "https://book.example.com/#x",
        "https://user@book.example.com",
        "https://book example.com",
        "javascript:alert(1)",
        "//book.example.com",
    ):
        assert not re.fullmatch(pattern, bad), bad
    assert "HasPublicBaseUrl" not in template.get("Conditions", {})


def test_every_function_gets_the_deploy_time_base_url(template: Template) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert template["Outputs"]["AdminPageUrl"]["Value"] == {"Fn::Sub": "${PublicBaseUrl}/admin"}


def test_the_owner_group_exists_and_the_settings_function_knows_it(template: Template) -> None:
    assert template["Parameters"]["OwnerGroupName"]["Default"] == "owner"
    group = template["Resources"]["OwnerGroup"]
    assert group["Type"] == "AWS::Cognito::UserPoolGroup"
    assert group["Properties"]["GroupName"] == {"Ref": "OwnerGroupName"}
    assert group["Properties"]["UserPoolId"] == {"Ref": "StaffUserPool"}
    env = props(template, "AdminSettingsFunction")["Environment"]["Variables"]
    assert env["OWNER_GROUP"] == {"Ref": "OwnerGroupName"}
    assert env["STAFF_GROUP"] == {"Ref": "StaffGroupName"}


def test_the_settings_function_writes_settings_and_audit_in_one_transaction(template: Template) -> None:
    function = props(template, "AdminSettingsFunction")
    [statement] = function["Policies"][0]["Statement"]
    assert set(statement["Action"]) == {"dynamodb:Query", "dynamodb:TransactWriteItems", "dynamodb:PutItem"}
    events = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in function["Events"].values()}
    assert ("/v1/admin/settings/history", "GET") in events
    history = next(
        e for e in function["Events"].values() if e["Properties"]["Path"] == "/v1/admin/settings/history"
    )
    assert history["Properties"]["Auth"] == {"Authorizer": "StaffCognito"}


def test_an_alarm_watches_security_settings_changes(template: Template) -> None:
    alarm = template["Resources"]["SecuritySettingsChangedAlarm"]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm" and "Condition" not in alarm
    p = alarm["Properties"]
    # The metric as Powertools publishes it from the settings function: namespace, name, service.
    settings_env = props(template, "AdminSettingsFunction")["Environment"]["Variables"]
    assert (p["Namespace"], p["MetricName"]) == (METRICS_NAMESPACE, SECURITY_CHANGED_METRIC)
    assert p["Dimensions"] == [{"Name": "service", "Value": settings_env["POWERTOOLS_SERVICE_NAME"]}]
    assert (p["Statistic"], p["Threshold"], p["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert p["TreatMissingData"] == "notBreaching"
    assert p["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
