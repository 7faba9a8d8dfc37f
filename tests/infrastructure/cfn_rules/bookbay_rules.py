"""Bookbay's custom cfn-lint rules (loaded through ``append_rules`` in .cfnlintrc.yaml).

cfn-lint loads this file on its own (not as part of a package), so it imports nothing from the
project and keeps every helper in this one module. cfn-lint 1.x validates SAM templates without
running the SAM transform (Globals are merged into the resources first), so the rules see the
``AWS::Serverless::*`` resources as written.

E9101  every function logs to its own AWS::Logs::LogGroup, which sets RetentionInDays
E9102  no IAM Allow statement uses a wildcard action (or NotAction)
E9103  no SAM policy template or managed policy that grants broad access (``*CrudPolicy`` ...)
E9104  ``Resource: "*"`` only for the actions AWS cannot scope (RESOURCE_STAR_ACTIONS)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch  # type: ignore[import-untyped]

Path = list[str | int]

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
POLICY_TEMPLATE_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")

# Actions allowed with Resource "*": only those that have no resource ARN to scope them to.
# Adding one needs a reason here and a comment next to the statement in template.yaml.
RESOURCE_STAR_ACTIONS: frozenset[str] = frozenset(
    {
        # SNS Publish straight to a phone number (SMS): there is no ARN for a phone number.
        "sns:publish",
    }
)

# SAM policy templates that grant one narrow action on one named resource. Anything else
# (DynamoDBCrudPolicy, DynamoDBReadPolicy with its Scan, S3CrudPolicy, ...) is refused:
# write the exact actions as an inline statement instead.
ALLOWED_POLICY_TEMPLATES: frozenset[str] = frozenset(
    {
        "AWSSecretsManagerGetSecretValuePolicy",
        "SNSPublishMessagePolicy",
        "SQSSendMessagePolicy",
    }
)
BROAD_POLICY_NAME = re.compile(r"(Crud|FullAccess|PowerUser|Administrator|ReadOnlyAccess)", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers
def _branches(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """``value`` itself, or both branches of an ``Fn::If`` (recursively); drops AWS::NoValue."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        args = value["Fn::If"]
        if isinstance(args, list) and len(args) == 3:
            for index in (1, 2):
                yield from _branches(args[index], [*path, "Fn::If", index])
        return
    if isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return
    yield value, path


def _as_list(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """The items of a list (or the one value that stands for a list), ``Fn::If`` resolved."""
    for branch, branch_path in _branches(value, path):
        if isinstance(branch, list):
            for index, item in enumerate(branch):
                yield from _branches(item, [*branch_path, index])
        else:
            yield branch, branch_path


def _policy_documents(value: Any, path: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """Every dict with a ``Statement`` key anywhere under ``value`` (IAM, SAM or resource policy)."""
    if isinstance(value, dict):
        if "Statement" in value:
            yield value, path
            return
        for key, child in value.items():
            yield from _policy_documents(child, [*path, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _policy_documents(child, [*path, index])


def _allow_statements(cfn: Any) -> Iterator[tuple[dict[str, Any], Path]]:
    """Every ``Effect: Allow`` statement of every policy document in the template's resources."""
    for name, resource in cfn.get_resources().items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        for document, doc_path in _policy_documents(properties, ["Resources", name, "Properties"]):
            for statement, st_path in _as_list(document["Statement"], [*doc_path, "Statement"]):
                if isinstance(statement, dict) and statement.get("Effect") == "Allow":
                    yield statement, st_path


# --------------------------------------------------------------------------- rules
class FunctionLogGroupRule(CloudFormationLintRule):  # type: ignore[misc]
    """Every function has LoggingConfig.LogGroup = !Ref of its own log group with a retention."""

    id = "E9101"
    shortdesc = "Function log group with retention"
    description = (
        "Every Lambda function sets LoggingConfig.LogGroup to a Ref of an AWS::Logs::LogGroup of "
        "its own in this template, and that log group sets RetentionInDays"
    )
    source_url = "https://github.com/aws-samples/aws-serverless-ecommerce-platform"
    tags: ClassVar[list[str]] = ["bookbay", "lambda", "logs"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        resources = cfn.get_resources()
        owners: dict[str, str] = {}
        for name, function in cfn.get_resources(list(FUNCTION_TYPES)).items():
            path: Path = ["Resources", name, "Properties"]
            properties = function.get("Properties") or {}
            logging_config = properties.get("LoggingConfig")
            target = logging_config.get("LogGroup") if isinstance(logging_config, dict) else None
            if not (isinstance(target, dict) and isinstance(target.get("Ref"), str)):
                matches.append(
                    RuleMatch(
                        path, f"Function {name} must set LoggingConfig.LogGroup to !Ref <its log group>"
                    )
                )
                continue
            group = target["Ref"]
            group_path: Path = [*path, "LoggingConfig", "LogGroup"]
            log_group = resources.get(group)
            if not isinstance(log_group, dict) or log_group.get("Type") != "AWS::Logs::LogGroup":
                matches.append(
                    RuleMatch(
                        group_path, f"Function {name} logs to {group}, which is not an AWS::Logs::LogGroup"
                    )
                )
                continue
            if "RetentionInDays" not in (log_group.get("Properties") or {}):
                matches.append(
                    RuleMatch(
                        ["Resources", group], f"Log group {group} (function {name}) has no RetentionInDays"
                    )
                )
            if group in owners:
                matches.append(
                    RuleMatch(group_path, f"Function {name} shares log group {group} with {owners[group]}")
                )
            else:
                owners[group] = name
        return matches


class WildcardActionRule(CloudFormationLintRule):  # type: ignore[misc]
    """No Allow statement grants a wildcard action, or everything but some actions (NotAction)."""

    id = "E9102"
    shortdesc = "No wildcard IAM actions"
    description = "IAM Allow statements list exact actions: no '*' in an action, no NotAction"
    tags: ClassVar[list[str]] = ["bookbay", "iam"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for statement, path in _allow_statements(cfn):
            if "NotAction" in statement:
                matches.append(
                    RuleMatch([*path, "NotAction"], "Allow statement with NotAction: list exact actions")
                )
            for action, action_path in _as_list(statement.get("Action"), [*path, "Action"]):
                if isinstance(action, str) and "*" in action:
                    matches.append(
                        RuleMatch(action_path, f"Wildcard IAM action '{action}': list exact actions")
                    )
        return matches


class BroadPolicyRule(CloudFormationLintRule):  # type: ignore[misc]
    """Function and state-machine Policies are inline statements or narrow policy templates."""

    id = "E9103"
    shortdesc = "No broad SAM policy templates or managed policies"
    description = (
        "SAM Policies entries are inline statements with exact actions, or one of the narrow policy "
        "templates in ALLOWED_POLICY_TEMPLATES; no *CrudPolicy, no managed policies; roles attach no "
        "broad managed policy (FullAccess, PowerUser, Administrator)"
    )
    tags: ClassVar[list[str]] = ["bookbay", "iam", "sam"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in cfn.get_resources(list(POLICY_TEMPLATE_OWNERS)).items():
            path: Path = ["Resources", name, "Properties", "Policies"]
            policies = (resource.get("Properties") or {}).get("Policies")
            if policies is None:
                continue
            for entry, entry_path in _as_list(policies, path):
                matches.extend(self._check_entry(name, entry, entry_path))
        for name, role in cfn.get_resources(["AWS::IAM::Role"]).items():
            arns = (role.get("Properties") or {}).get("ManagedPolicyArns")
            path = ["Resources", name, "Properties", "ManagedPolicyArns"]
            for arn, arn_path in _as_list(arns or [], path):
                if isinstance(arn, str) and BROAD_POLICY_NAME.search(arn):
                    matches.append(RuleMatch(arn_path, f"Role {name} attaches broad managed policy '{arn}'"))
        return matches

    @staticmethod
    def _check_entry(owner: str, entry: Any, path: Path) -> list[RuleMatch]:
        if isinstance(entry, dict) and "Statement" in entry:
            return []  # inline policy document: E9102 / E9104 check its statements
        if isinstance(entry, str):
            return [RuleMatch(path, f"{owner} attaches managed policy '{entry}': use inline statements")]
        if isinstance(entry, dict) and len(entry) == 1:
            template = next(iter(entry))
            if template.endswith("CrudPolicy") or BROAD_POLICY_NAME.search(template):
                return [RuleMatch(path, f"{owner} uses broad policy template {template}: list exact actions")]
            if template not in ALLOWED_POLICY_TEMPLATES:
                return [
                    RuleMatch(
                        path,
                        f"{owner} uses policy template {template}, which is not in the narrow allow-list: "
                        "write an inline statement with exact actions",
                    )
                ]
            return []
        return [RuleMatch(path, f"{owner} has a Policies entry cfn-lint cannot read as a policy")]


class ResourceStarRule(CloudFormationLintRule):  # type: ignore[misc]
    """``Resource: "*"`` only for actions in RESOURCE_STAR_ACTIONS; never NotResource."""

    id = "E9104"
    shortdesc = "Resource '*' only where AWS cannot scope"
    description = (
        "An Allow statement with Resource '*' may list only actions that support no resource-level "
        "permission (RESOURCE_STAR_ACTIONS, e.g. sns:Publish to a phone number); no NotResource"
    )
    tags: ClassVar[list[str]] = ["bookbay", "iam"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for statement, path in _allow_statements(cfn):
            if "NotResource" in statement:
                matches.append(RuleMatch([*path, "NotResource"], "Allow statement with NotResource"))
            resources = [value for value, _ in _as_list(statement.get("Resource"), [*path, "Resource"])]
            if "*" not in resources:
                continue
            for action, action_path in _as_list(statement.get("Action"), [*path, "Action"]):
                if not (isinstance(action, str) and action.lower() in RESOURCE_STAR_ACTIONS):
                    matches.append(
                        RuleMatch(
                            action_path,
                            f"Action '{action}' on Resource '*': scope it to its resources "
                            f"(allowed on '*': {', '.join(sorted(RESOURCE_STAR_ACTIONS))})",
                        )
                    )
        return matches
