"""The template's side of the outside audit's findings (issue 14): traces keep no responses or
errors, the public functions have reserved concurrency, WAF is on by default in production, SNS
publishes only SMS, and API Gateway writes an access log by route template, never the path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.test_template import Template, functions, policy_statements, props

pytestmark = pytest.mark.infrastructure

PUBLIC_FUNCTIONS = {
    "CatalogFunction",
    "AvailabilityFunction",
    "VerificationFunction",
    "BookingFunction",
    "StaffLinksFunction",
    "CustomerLinksFunction",
    "ReviewLinksFunction",
    "DocsFunction",
    "BookingPageFunction",
    "AdminPageFunction",
}


def condition(template: Template, expression: Any, parameters: dict[str, str]) -> Any:
    """Evaluate a condition (Fn::Equals / And / Or / Not, Ref, Condition) for ``parameters``
    (the others at their defaults)."""
    if isinstance(expression, dict):
        ((fn, args),) = expression.items()
        if fn == "Ref":
            return parameters.get(args, str(template["Parameters"][args].get("Default")))
        if fn == "Condition":
            return condition(template, template["Conditions"][args], parameters)
        values = [condition(template, a, parameters) for a in args]
        return {
            "Fn::Equals": lambda: str(values[0]) == str(values[1]),
            "Fn::And": lambda: all(values),
            "Fn::Or": lambda: any(values),
            "Fn::Not": lambda: not values[0],
        }[fn]()
    return expression


# --------------------------------------------------------------------------- traces (item 2)
def test_no_function_lets_the_tracer_keep_responses_or_errors(template: Template) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    for name, fn in functions(template).items():
        own = ((props(fn).get("Environment") or {}).get("Variables")) or {}
        for variable in ("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "POWERTOOLS_TRACER_CAPTURE_ERROR"):
            assert own.get(variable, "false") == "false", f"{name} turns {variable} back on"


# --------------------------------------------------------------------------- spend (item 5)
def test_every_public_function_has_reserved_concurrency(template: Template) -> None:
    fns = functions(template)
    assert set(fns) >= PUBLIC_FUNCTIONS
    for name in PUBLIC_FUNCTIONS:
        reserved = props(fns[name]).get("ReservedConcurrentExecutions")
        assert reserved is not None, f"{name} has no reserved concurrency"
        cond, value, otherwise = reserved["Fn::If"]
        assert otherwise == {"Ref": "AWS::NoValue"}
        assert condition(template, {"Condition": cond}, {}), f"{name}: none reserved by default"
        assert int(template["Parameters"][value["Ref"]]["Default"]) > 0
    verification = props(fns["VerificationFunction"])["ReservedConcurrentExecutions"]["Fn::If"][1]["Ref"]
    assert int(template["Parameters"][verification]["Default"]) <= 5, (
        "code sends cost SMS: throttle them sooner"
    )


@pytest.mark.parametrize(
    ("environment", "waf", "on"),
    [
        ("prod", None, True),
        ("prod", "false", False),
        ("dev", None, False),
        ("staging", None, False),
        ("dev", "true", True),
    ],
)
def test_waf_is_on_by_default_in_production(
    template: Template, environment: str, waf: str | None, on: bool
) -> None:
    parameters = {"Environment": environment, **({"WafEnabled": waf} if waf else {})}
    assert condition(template, {"Condition": "UseWaf"}, parameters) is on
    acl = template["Resources"]["WebAcl"]
    assert acl["Condition"] == "UseWaf"
    rules = props(acl)["Rules"]
    assert any("RateBasedStatement" in rule["Statement"] for rule in rules)


# --------------------------------------------------------------------------- IAM and logs (item 11)
def test_sns_publish_is_denied_on_every_topic_where_it_is_allowed(template: Template) -> None:
    holders: dict[str, list[dict[str, Any]]] = {}
    for name, statement in policy_statements(template):
        holders.setdefault(name, []).append(statement)
    publishers = {
        name
        for name, statements in holders.items()
        if any(s["Effect"] == "Allow" and "sns:Publish" in s["Action"] for s in statements)
    }
    assert publishers, "nothing may publish SMS?"
    for name in publishers:
        denies = [s for s in holders[name] if s["Effect"] == "Deny" and "sns:Publish" in s["Action"]]
        assert denies, f"{name} may publish to any topic"
        assert any(d["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"} for d in denies)


def test_the_api_writes_an_access_log_by_route_template_never_the_path(template: Template) -> None:
    api = props(template["Resources"]["BookbayApi"])
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    log_format = setting["Format"]
    assert "$context.resourcePath" in log_format
    for leak in ("$context.path", "$context.requestOverride", "$input", "$context.authorizer", "$request"):
        assert leak not in log_format, f"the access log would hold {leak}"
    group = template["Resources"]["ApiAccessLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup" and "RetentionInDays" in props(group)
    ready = template["Resources"]["BookbayApi"].get("DependsOn")
    assert ready == "ApiLoggingReady", "the stage must wait for the account's CloudWatch role"
