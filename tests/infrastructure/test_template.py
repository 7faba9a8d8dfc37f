"""Assertions on template.yaml: what the SPEC and STYLE require of the stack, read from the YAML.

These run without the SAM CLI (see test_sam.py for `sam validate` and `sam build`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bookbay.models.table import BaseItem, table_schema

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.infrastructure

Template = dict[str, Any]

FUNCTION = "AWS::Serverless::Function"
ADMIN_PREFIX = "/v1/admin"
STAFF_AUTHORIZER = "StaffCognito"


# --------------------------------------------------------------------------- helpers
def resources_of(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == type_}


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return resources_of(template, FUNCTION)


def props(resource: dict[str, Any]) -> dict[str, Any]:
    value = resource.get("Properties") or {}
    assert isinstance(value, dict)
    return value


def if_branches(value: Any) -> Iterator[Any]:
    """``value``, or both branches of an Fn::If, recursively."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, yes, no = value["Fn::If"]
        yield from if_branches(yes)
        yield from if_branches(no)
    else:
        yield value


def as_list(value: Any) -> list[Any]:
    out: list[Any] = []
    for branch in if_branches(value):
        out.extend(branch if isinstance(branch, list) else [branch])
    return out


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource, statement) for every statement of every identity policy in the template."""
    for name, res in template["Resources"].items():
        documents: list[Any] = []
        if res["Type"] == FUNCTION:
            documents = [p for p in as_list(props(res).get("Policies", [])) if isinstance(p, dict)]
        elif res["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props(res).get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props(res)["PolicyDocument"]]
        for document in documents:
            for statement in as_list(document.get("Statement", [])):
                yield name, statement


def api_events(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) for every Api event."""
    for name, fn in functions(template).items():
        for event_name, event in (props(fn).get("Events") or {}).items():
            if event["Type"] == "Api":
                yield name, event_name, event["Properties"]


# --------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", ["ShopName", "SenderEmail", "Environment", "LogLevel", "WafEnabled"])
def test_parameter_exists(template: Template, name: str) -> None:
    assert name in template["Parameters"]


# --------------------------------------------------------------------------- functions
def test_there_are_functions(template: Template) -> None:
    assert functions(template), "template.yaml declares no AWS::Serverless::Function"


def test_every_function_has_its_own_log_group_with_retention(template: Template) -> None:
    owners: dict[str, str] = {}
    for name, fn in functions(template).items():
        target = props(fn).get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(target, dict) and "Ref" in target, f"{name}: LoggingConfig.LogGroup is not a !Ref"
        group = target["Ref"]
        log_group = template["Resources"].get(group)
        assert log_group is not None, f"{name}: log group {group} is not in the template"
        assert log_group["Type"] == "AWS::Logs::LogGroup", f"{name}: {group} is not a log group"
        assert "RetentionInDays" in props(log_group), f"{group} has no RetentionInDays"
        assert group not in owners, f"{name} and {owners.get(group)} share log group {group}"
        owners[group] = name


def test_functions_use_python313_and_the_common_layer_via_globals(template: Template) -> None:
    globals_fn = template["Globals"]["Function"]
    assert globals_fn["Runtime"] == "python3.13"
    assert {"Ref": "CommonLayer"} in globals_fn["Layers"]
    for name, fn in functions(template).items():
        assert props(fn).get("Runtime", "python3.13") == "python3.13", f"{name} overrides the runtime"
        assert "Layers" not in props(fn), f"{name} overrides Globals' Layers (and so drops the common layer)"


def test_common_layer_is_built_for_the_functions_runtime_and_architecture(template: Template) -> None:
    layer = template["Resources"]["CommonLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert "python3.13" in props(layer)["CompatibleRuntimes"]
    architectures = template["Globals"]["Function"].get("Architectures", ["x86_64"])
    assert architectures == [layer["Metadata"]["BuildArchitecture"]]
    assert architectures == props(layer)["CompatibleArchitectures"]
    assert (ROOT / props(layer)["ContentUri"] / "bookbay" / "__init__.py").is_file()


def test_every_function_code_uri_holds_its_handler_module(template: Template) -> None:
    for name, fn in functions(template).items():
        module = props(fn)["Handler"].rsplit(".", 1)[0]
        code = ROOT / props(fn)["CodeUri"] / f"{module}.py"
        assert code.is_file(), f"{name}: {code.relative_to(ROOT)} does not exist"


# --------------------------------------------------------------------------- IAM
def test_no_wildcard_iam_actions(template: Template) -> None:
    for name, statement in policy_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        assert "NotAction" not in statement, f"{name}: Allow with NotAction"
        for action in as_list(statement.get("Action", [])):
            assert "*" not in action, f"{name}: wildcard action {action}"


def test_no_sam_policy_templates_or_managed_policies_on_functions(template: Template) -> None:
    for name, fn in functions(template).items():
        for policy in as_list(props(fn).get("Policies", [])):
            assert isinstance(policy, dict) and "Statement" in policy, (
                f"{name}: policy {policy} is not inline"
            )


def test_resource_star_only_for_sms_publish(template: Template) -> None:
    for name, statement in policy_statements(template):
        if statement.get("Effect") == "Allow" and "*" in as_list(statement.get("Resource", [])):
            assert as_list(statement["Action"]) == ["sns:Publish"], f"{name}: {statement['Action']} on '*'"


def test_signing_key_is_generated_and_granted_only_on_itself(template: Template) -> None:
    secret = template["Resources"]["SigningKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "GenerateSecretString" in props(secret)
    assert "SecretString" not in props(secret)
    for name, statement in policy_statements(template):
        actions = as_list(statement.get("Action", []))
        if any(action.startswith("secretsmanager:") for action in actions):
            assert actions == ["secretsmanager:GetSecretValue"], f"{name}: {actions}"
            assert as_list(statement["Resource"]) == [{"Ref": "SigningKeySecret"}], name


def test_scheduler_role_is_assumable_only_by_this_stacks_schedule_group(template: Template) -> None:
    role = props(template["Resources"]["SchedulerRole"])
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["ScheduleGroup", "Arn"]}
    assert template["Resources"]["ScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"


# --------------------------------------------------------------------------- API
def test_api_is_a_rest_api_without_a_default_authorizer(template: Template) -> None:
    api = template["Resources"]["BookbayApi"]
    assert api["Type"] == "AWS::Serverless::Api"
    auth = props(api)["Auth"]
    assert "DefaultAuthorizer" not in auth, "a default authorizer would also guard the public routes"
    cognito = auth["Authorizers"][STAFF_AUTHORIZER]
    assert cognito["UserPoolArn"] == {"Fn::GetAtt": ["StaffUserPool", "Arn"]}
    assert template["Resources"]["StaffUserPool"]["Type"] == "AWS::Cognito::UserPool"
    client = template["Resources"]["StaffUserPoolClient"]
    assert props(client)["UserPoolId"] == {"Ref": "StaffUserPool"}


def test_api_has_no_implicit_stage_named_stage(template: Template) -> None:
    # Without OpenApiVersion SAM also deploys a stage "Stage": public, without WAF or throttling.
    assert "OpenApiVersion" in props(template["Resources"]["BookbayApi"])


def test_admin_routes_and_only_admin_routes_use_the_staff_authorizer(template: Template) -> None:
    events = list(api_events(template))
    assert any(path["Path"].startswith(ADMIN_PREFIX) for _, _, path in events)
    for fn, event, properties in events:
        assert properties.get("RestApiId") == {"Ref": "BookbayApi"}, f"{fn}.{event} is not on BookbayApi"
        authorizer = (properties.get("Auth") or {}).get("Authorizer")
        where = f"{fn}.{event} {properties['Method']} {properties['Path']}"
        if properties["Path"] == ADMIN_PREFIX or properties["Path"].startswith(f"{ADMIN_PREFIX}/"):
            assert authorizer == STAFF_AUTHORIZER, f"{where} lacks the {STAFF_AUTHORIZER} authorizer"
        else:
            assert authorizer in (None, "NONE"), f"{where} is public but has authorizer {authorizer}"


def test_gateway_responses_use_the_api_error_shape(template: Template) -> None:
    responses = props(template["Resources"]["BookbayApi"])["GatewayResponses"]
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "WAF_FILTERED", "DEFAULT_4XX", "DEFAULT_5XX"):
        assert kind in responses
    for kind, response in responses.items():
        body = response["ResponseTemplates"]["application/json"]
        # $context.error.messageString is the gateway's message already quoted as a JSON string.
        parsed = json.loads(body.replace("$context.error.messageString", '"a message"'))
        assert set(parsed) == {"error"}, kind
        assert set(parsed["error"]) == {"code", "message"}, kind
        assert parsed["error"]["code"].replace("_", "").isalpha(), kind
        assert parsed["error"]["code"] == parsed["error"]["code"].lower(), kind


# --------------------------------------------------------------------------- WAF
def test_waf_resources_exist_only_under_the_waf_condition(template: Template) -> None:
    waf = {n: r for n, r in template["Resources"].items() if r["Type"].startswith("AWS::WAFv2::")}
    assert {r["Type"] for r in waf.values()} == {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"}
    for name, resource in waf.items():
        assert resource.get("Condition") == "UseWaf", f"{name} is not conditional on WafEnabled"


def test_web_acl_has_rate_based_rules(template: Template) -> None:
    acl = props(template["Resources"]["WebAcl"])
    assert acl["Scope"] == "REGIONAL"
    rate_rules = [rule for rule in acl["Rules"] if "RateBasedStatement" in rule["Statement"]]
    assert len(rate_rules) >= 2
    for rule in rate_rules:
        assert rule["Action"] == {"Block": {}}


def test_web_acl_association_targets_the_api_stage(template: Template) -> None:
    association = template["Resources"]["WebAclAssociation"]
    # SAM names the stage of Api "BookbayApi" "BookbayApiStage"; the stage's name is Environment.
    assert association["DependsOn"] == "BookbayApiStage"
    assert props(template["Resources"]["BookbayApi"])["StageName"] == {"Ref": "Environment"}
    arn = props(association)["ResourceArn"]["Fn::Sub"]
    assert arn.endswith(":apigateway:${AWS::Region}::/restapis/${BookbayApi}/stages/${Environment}")
    assert props(association)["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}


# --------------------------------------------------------------------------- tables
def _key_schema(entries: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((entry["AttributeName"], entry["KeyType"]) for entry in entries)


def _attributes(entries: list[dict[str, str]]) -> dict[str, str]:
    return {entry["AttributeName"]: entry["AttributeType"] for entry in entries}


def test_domain_table_keys_match_the_models(template: Template) -> None:
    table = props(template["Resources"]["BookbayTable"])
    schema = table_schema()
    assert _key_schema(table["KeySchema"]) == _key_schema(schema["key_schema"])
    assert _attributes(table["AttributeDefinitions"]) == _attributes(schema["attribute_definitions"])


def test_domain_table_indexes_match_the_models(template: Template) -> None:
    table = props(template["Resources"]["BookbayTable"])
    declared = {
        index["IndexName"]: (_key_schema(index["KeySchema"]), index["Projection"])
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    modelled = {
        index["index_name"]: (_key_schema(index["key_schema"]), index["projection"])
        for index in table_schema()["global_secondary_indexes"]
    }
    assert declared == modelled
    assert not table.get("LocalSecondaryIndexes")
    assert not BaseItem._get_schema().get("local_secondary_indexes")


def test_domain_table_ttl_and_stream_match_the_models(template: Template) -> None:
    table = props(template["Resources"]["BookbayTable"])
    schema = table_schema()
    assert table["TimeToLiveSpecification"] == {"AttributeName": schema["ttl_attribute"], "Enabled": True}
    # The outbox sender filters on the new image, so the stream must carry it.
    assert table["StreamSpecification"]["StreamViewType"] == schema["stream_view_type"]
    assert template["Resources"]["BookbayTable"]["DeletionPolicy"] == "Retain"


def test_idempotency_table_matches_powertools_defaults(template: Template) -> None:
    table = props(template["Resources"]["IdempotencyTable"])
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
