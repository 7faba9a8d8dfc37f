"""cfn-lint, with Bookbay's custom rules, on template.yaml; and proof that each custom rule can fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]
from cfnlint.match import Match  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = Path(__file__).resolve().parent / "cfn_rules"
CUSTOM_RULES = ("E9101", "E9102", "E9103", "E9104")
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
pytestmark = pytest.mark.infrastructure


def run_cfn_lint(*args: str) -> subprocess.CompletedProcess[str]:
    """cfn-lint from this interpreter's environment, in the repository root (so .cfnlintrc.yaml applies)."""
    return subprocess.run(
        [str(CFN_LINT), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def lint_snippet(body: str) -> list[Match]:
    config = ManualArgs(append_rules=[str(RULES_DIR)], regions=["us-east-1"])
    matches: list[Match] = lint(textwrap.dedent(body), config=config)
    return matches


def custom_rule_ids(matches: list[Match]) -> set[str]:
    return {m.rule.id for m in matches if m.rule.id in CUSTOM_RULES}


# --------------------------------------------------------------------------- the real template
def test_cfnlintrc_loads_the_custom_rules() -> None:
    result = run_cfn_lint("--list-rules")
    assert result.returncode == 0, result.stderr
    for rule_id in CUSTOM_RULES:
        assert f"{rule_id}:" in result.stdout, f"{rule_id} is not loaded through .cfnlintrc.yaml"


def test_template_is_clean() -> None:
    # Given the repository's .cfnlintrc.yaml (template.yaml, us-east-1, the custom rules)
    # When cfn-lint runs as `make lint` runs it
    result = run_cfn_lint("template.yaml")
    # Then it reports nothing: no error, no warning
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


# --------------------------------------------------------------------------- the custom rules
HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  FnLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      RetentionInDays: 30
"""

FUNCTION = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.lambda_handler
      CodeUri: functions/fn/
      LoggingConfig:
        LogGroup: !Ref FnLogGroup
      Policies:
        - Version: "2012-10-17"
          Statement:
{statements}
"""

GOOD_STATEMENTS = """\
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource: !GetAtt Table.Arn
            # SMS: no ARN for a phone number
            - Effect: Allow
              Action: sns:Publish
              Resource: "*"
            - Effect: Deny
              Action: "dynamodb:*"
              Resource: "*"
"""


def function_with(statements: str) -> str:
    return HEADER + FUNCTION.format(statements=statements.rstrip("\n"))


def test_a_good_template_passes_every_custom_rule() -> None:
    matches = lint_snippet(function_with(GOOD_STATEMENTS))
    assert custom_rule_ids(matches) == set(), [str(m) for m in matches]


BAD_TEMPLATES: dict[str, tuple[str, str]] = {
    "function without a log group": (
        "E9101",
        HEADER
        + """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.lambda_handler
      CodeUri: functions/fn/
""",
    ),
    "log group without retention": (
        "E9101",
        function_with(GOOD_STATEMENTS).replace("      RetentionInDays: 30\n", "      LogGroupName: fn\n"),
    ),
    "log group shared by two functions": (
        "E9101",
        function_with(GOOD_STATEMENTS)
        + """\
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.lambda_handler
      CodeUri: functions/other/
      LoggingConfig:
        LogGroup: !Ref FnLogGroup
""",
    ),
    "log group that is not a log group": (
        "E9101",
        function_with(GOOD_STATEMENTS).replace("LogGroup: !Ref FnLogGroup", "LogGroup: !Ref Table"),
    ),
    "wildcard action": (
        "E9102",
        function_with(
            """\
            - Effect: Allow
              Action: [dynamodb:Get*]
              Resource: !GetAtt Table.Arn
"""
        ),
    ),
    "wildcard action inside Fn::If on an IAM role": (
        "E9102",
        HEADER.replace("Resources:", 'Conditions:\n  Wide: !Equals ["a", "a"]\nResources:')
        + """\
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: !If [Wide, "dynamodb:*", dynamodb:GetItem]
                Resource: !GetAtt Table.Arn
""",
    ),
    "NotAction": (
        "E9102",
        function_with(
            """\
            - Effect: Allow
              NotAction: [iam:CreateUser]
              Resource: !GetAtt Table.Arn
"""
        ),
    ),
    "CrudPolicy template": (
        "E9103",
        function_with(GOOD_STATEMENTS).replace(
            "      Policies:\n", "      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Table}\n"
        ),
    ),
    "policy template outside the allow-list": (
        "E9103",
        function_with(GOOD_STATEMENTS).replace(
            "      Policies:\n", "      Policies:\n        - DynamoDBReadPolicy: {TableName: !Ref Table}\n"
        ),
    ),
    "managed policy by name": (
        "E9103",
        function_with(GOOD_STATEMENTS).replace(
            "      Policies:\n", "      Policies:\n        - AmazonS3FullAccess\n"
        ),
    ),
    "resource star for a scopable action": (
        "E9104",
        function_with(
            """\
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: "*"
"""
        ),
    ),
    "NotResource": (
        "E9104",
        function_with(
            """\
            - Effect: Allow
              Action: [dynamodb:GetItem]
              NotResource: !GetAtt Table.Arn
"""
        ),
    ),
}


@pytest.mark.parametrize(("rule_id", "body"), BAD_TEMPLATES.values(), ids=BAD_TEMPLATES.keys())
def test_custom_rule_fires(rule_id: str, body: str) -> None:
    # Given a template that breaks exactly one of the custom rules
    # When cfn-lint runs with the custom rules
    matches = lint_snippet(body)
    # Then that rule (and no other custom rule) reports it
    assert custom_rule_ids(matches) == {rule_id}, [str(m) for m in matches]


def test_every_custom_rule_has_a_failing_example() -> None:
    assert {rule_id for rule_id, _ in BAD_TEMPLATES.values()} == set(CUSTOM_RULES)
