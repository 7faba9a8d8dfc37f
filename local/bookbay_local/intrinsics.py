"""Resolve a template's intrinsic functions to local values.

Parameters take their defaults, overridden by the local values; ``Ref`` of a resource is a local
physical name (or id, URL, ARN as CloudFormation would answer); ``Fn::GetAtt X.Arn`` a plausible
local ARN. Values known only once a resource exists (a stream ARN, a queue URL, a secret's ARN)
are registered by the provisioner and win over the computed ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from bookbay_local.template import Template, TemplateError

LOCAL_ACCOUNT_ID: Final = "123456789012"  # moto's default account
LOCAL_REGION: Final = "us-east-1"
LOCAL_STACK_NAME: Final = "bookbay-local"

LOCAL_PARAMETERS: Final[Mapping[str, str]] = {
    "ShopName": "Bookbay Demo Auto",
    "SenderEmail": "bookings@demo.bookbay.local",
    "Environment": "dev",
}


class _NoValue:
    """``AWS::NoValue``: removes the property (or list item) that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()

# The property that names a resource, where the template may set it.
_NAME_PROPERTY: Final[Mapping[str, str]] = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolClient": "ClientName",
    "AWS::Cognito::UserPoolGroup": "GroupName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Serverless::Api": "Name",
}

# "Arn" attribute per type: a format with {partition} {region} {account} {name}.
_ARN_FORMAT: Final[Mapping[str, str]] = {
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "AWS::SNS::Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "AWS::Scheduler::ScheduleGroup": "arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}",
    "AWS::Serverless::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{name}",
    "AWS::SecretsManager::Secret": "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-Local0",
    "AWS::SSM::Parameter": "arn:{partition}:ssm:{region}:{account}:parameter/{name}",
    "AWS::SES::EmailIdentity": "arn:{partition}:ses:{region}:{account}:identity/{name}",
    "AWS::Cognito::UserPool": "arn:{partition}:cognito-idp:{region}:{account}:userpool/{id}",
    "AWS::WAFv2::WebACL": "arn:{partition}:wafv2:{region}:{account}:regional/webacl/{name}/{id}",
    "AWS::Serverless::LayerVersion": "arn:{partition}:lambda:{region}:{account}:layer:{name}:1",
}

# Types whose Ref is an ARN or a generated id rather than the name.
_REF_IS_ARN: Final = {"AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::Serverless::LayerVersion"}
_REF_IS_ID: Final = {
    "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Serverless::Api",
    "AWS::ApiGateway::RestApi", "AWS::WAFv2::WebACL",
}  # fmt: skip

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Resolves intrinsics against the template, the local parameters and registered values."""

    def __init__(
        self,
        template: Template,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        stack_name: str = LOCAL_STACK_NAME,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.partition = "aws"
        overrides = dict(LOCAL_PARAMETERS if parameter_overrides is None else parameter_overrides)
        self._parameters: dict[str, Any] = {}
        for name, declared in template.parameters.items():
            if name in overrides:
                self._parameters[name] = overrides[name]
            elif "Default" in declared:
                self._parameters[name] = declared["Default"]
        for name, declared in template.parameters.items():
            if name in self._parameters:
                self._parameters[name] = _parameter_value(declared, self._parameters[name])
        self._refs: dict[str, Any] = {}
        self._attributes: dict[tuple[str, str], Any] = {}
        self._conditions: dict[str, bool] = {}
        self._resolving: set[str] = set()

    # ------------------------------------------------------------------ registration
    def register(self, logical_id: str, *, ref: Any = None, **attributes: Any) -> None:
        """Record what a created resource really is (its Ref and attributes), e.g. a stream ARN."""
        if ref is not None:
            self._refs[logical_id] = ref
        for name, value in attributes.items():
            self._attributes[(logical_id, name)] = value

    # ------------------------------------------------------------------ names
    def parameter(self, name: str) -> Any:
        if name not in self._parameters:
            raise TemplateError(f"parameter {name!r} has no default and no local value")
        return self._parameters[name]

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its name property if the template sets one, else stack-LogicalId."""
        kind = self.template.resource_type(logical_id)
        prop = _NAME_PROPERTY.get(kind)
        declared = self.template.properties(logical_id).get(prop) if prop else None
        if declared is not None:
            if logical_id in self._resolving:
                raise TemplateError(f"the name of {logical_id} refers to itself")
            self._resolving.add(logical_id)
            try:
                return str(self.resolve(declared))
            finally:
                self._resolving.discard(logical_id)
        return f"{self.stack_name}-{logical_id}"

    def local_id(self, logical_id: str) -> str:
        """A stable, id-looking value for resources whose Ref is a generated id."""
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:10]
        if self.template.resource_type(logical_id) == "AWS::Cognito::UserPool":
            return f"{self.region}_{digest}"
        return digest

    def arn(self, logical_id: str) -> str:
        registered = self._attributes.get((logical_id, "Arn"))
        if registered is not None:
            return str(registered)
        kind = self.template.resource_type(logical_id)
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "cloudformation"
        fmt = _ARN_FORMAT.get(kind, "arn:{partition}:" + service + ":{region}:{account}:{name}")
        return fmt.format(
            partition=self.partition,
            region=self.region,
            account=self.account_id,
            name=self.physical_name(logical_id),
            id=self.local_id(logical_id),
        )

    # ------------------------------------------------------------------ Ref, GetAtt, conditions
    def ref(self, name: str) -> Any:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.template.parameters:
            return self.parameter(name)
        if name in self._refs:
            return self._refs[name]
        kind = self.template.resource_type(name)
        if kind in _REF_IS_ARN:
            return self.arn(name)
        if kind in _REF_IS_ID:
            return self.local_id(name)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.physical_name(name)}"
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self._attributes:
            return self._attributes[(logical_id, attribute)]
        kind = self.template.resource_type(logical_id)
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "StreamArn" and kind == "AWS::DynamoDB::Table":
            return f"{self.arn(logical_id)}/stream/1970-01-01T00:00:00.000"
        if attribute in ("QueueUrl",) and kind == "AWS::SQS::Queue":
            return self.ref(logical_id)
        if attribute in ("Name", "QueueName", "TopicName", "GroupName"):
            return self.physical_name(logical_id)
        if attribute in ("ProviderName", "ProviderURL") and kind == "AWS::Cognito::UserPool":
            host = f"cognito-idp.{self.region}.amazonaws.com/{self.local_id(logical_id)}"
            return host if attribute == "ProviderName" else f"https://{host}"
        if attribute in ("Id", "RoleId", "RootResourceId"):
            return self.local_id(f"{logical_id}.{attribute}")
        raise TemplateError(f"the local stack cannot resolve Fn::GetAtt {logical_id}.{attribute}")

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"the template has no condition {name!r}")
            self._conditions[name] = bool(self.resolve(self.template.conditions[name]))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        """False for a resource whose Condition is false (CloudFormation would not create it)."""
        condition = self.template.resource(logical_id).get("Condition")
        return condition is None or self.condition(str(condition))

    def _pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values.get(name)

    # ------------------------------------------------------------------ resolve
    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in ``value`` (dicts and lists recursively)."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Condition":
                return self.condition(str(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, arg: Any) -> Any:  # noqa: C901, PLR0911 - one branch per function
        if name == "GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(str(logical_id), str(self.resolve(attribute)))
        if name == "Sub":
            return self._sub(arg)
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(str(condition)) else when_false)
        if name == "Equals":
            left, right = (self.resolve(item) for item in arg)
            return _text(left) == _text(right)
        if name == "And":
            return all(self.resolve(item) for item in arg)
        if name == "Or":
            return any(self.resolve(item) for item in arg)
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "Join":
            delimiter, items = arg
            return str(delimiter).join(_text(item) for item in self.resolve(items))
        if name == "Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if name == "Split":
            delimiter, text = self.resolve(arg)
            return str(text).split(str(delimiter))
        if name == "Base64":
            return base64.b64encode(_text(self.resolve(arg)).encode()).decode()
        if name == "FindInMap":
            mapping, first, second = self.resolve(arg)
            return self.template.mappings[mapping][first][second]
        if name == "GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Length":
            return len(self.resolve(arg))
        if name == "ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"the local stack cannot resolve Fn::{name}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], dict(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(self.resolve(variables[name]))
            if name in self.template.parameters or name.startswith("AWS::"):
                return _text(self.ref(name))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return _text(self.get_att(logical_id, attribute))
            return _text(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))


def _parameter_value(declared: Mapping[str, Any], value: Any) -> Any:
    kind = str(declared.get("Type", "String"))
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)
    return _text(value)


def _text(value: Any) -> str:
    """A value as CloudFormation would put it in a string (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def environment_value(value: Any) -> str:
    """A resolved environment variable value (Lambda's are strings)."""
    return _text(value)
