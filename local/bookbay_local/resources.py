"""Create the template's stateful resources in moto, from the template's own properties.

Tables (keys, indexes, billing, stream, TTL), secrets, queues, schedule groups and SES identities.
What only exists once created (stream and secret ARNs, queue URLs) is registered with the resolver.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bookbay_local.aws import AwsClients
from bookbay_local.intrinsics import Resolver


@dataclass
class Provisioned:
    """What was created, by kind: logical id -> physical name (or URL for queues)."""

    tables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    schedule_groups: dict[str, str] = field(default_factory=dict)
    email_identities: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{len(self.tables)} tables, {len(self.queues)} queues, {len(self.secrets)} secrets, "
            f"{len(self.schedule_groups)} schedule groups, {len(self.email_identities)} SES identities"
        )


def provision(resolver: Resolver, clients: AwsClients) -> Provisioned:
    """Create every supported resource whose Condition holds (SES identities always: see below)."""
    done = Provisioned()
    creators: dict[str, Callable[[Resolver, AwsClients, str, dict[str, Any], Provisioned], None]] = {
        "AWS::DynamoDB::Table": _table,
        "AWS::SecretsManager::Secret": _secret,
        "AWS::SQS::Queue": _queue,
        "AWS::Scheduler::ScheduleGroup": _schedule_group,
        "AWS::SES::EmailIdentity": _email_identity,
    }
    template = resolver.template
    for logical_id, resource in template.resources.items():
        create = creators.get(str(resource.get("Type")))
        if create is None:
            continue
        # An SES identity's condition says whether the stack must create it or it exists already
        # in the account; locally nothing exists, so it is always created.
        if resource.get("Type") != "AWS::SES::EmailIdentity" and not resolver.resource_enabled(logical_id):
            continue
        create(resolver, clients, logical_id, resolver.resolve(template.properties(logical_id)), done)
    return done


def _table(
    resolver: Resolver, clients: AwsClients, logical_id: str, props: dict[str, Any], done: Provisioned
) -> None:
    dynamodb = clients("dynamodb")
    name = resolver.physical_name(logical_id)
    billing = props.get("BillingMode", "PROVISIONED")
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get("ProvisionedThroughput", throughput)
    indexes = []
    for index in props.get("GlobalSecondaryIndexes", []):
        index = {
            k: v
            for k, v in index.items()
            if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        }
        if billing == "PROVISIONED":
            index.setdefault("ProvisionedThroughput", throughput)
        indexes.append(index)
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    described = dynamodb.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and _truthy(ttl.get("Enabled")):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    attributes = {"Arn": described["TableArn"]}
    if described.get("LatestStreamArn"):
        attributes["StreamArn"] = described["LatestStreamArn"]
    resolver.register(logical_id, ref=name, **attributes)
    done.tables[logical_id] = name


def _secret(
    resolver: Resolver, clients: AwsClients, logical_id: str, props: dict[str, Any], done: Provisioned
) -> None:
    name = resolver.physical_name(logical_id)
    created = clients("secretsmanager").create_secret(
        Name=name, Description=str(props.get("Description", "")), SecretString=_secret_value(props)
    )
    resolver.register(logical_id, ref=created["ARN"], Arn=created["ARN"], Id=created["ARN"])
    done.secrets[logical_id] = name


def _secret_value(props: dict[str, Any]) -> str:
    """SecretString as given, else one generated per GenerateSecretString."""
    if "SecretString" in props:
        return str(props["SecretString"])
    spec = props.get("GenerateSecretString") or {}
    alphabet = string.ascii_letters + string.digits
    if not _truthy(spec.get("ExcludePunctuation", False)):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    excluded = str(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


_QUEUE_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication",
)  # fmt: skip


def _queue(
    resolver: Resolver, clients: AwsClients, logical_id: str, props: dict[str, Any], done: Provisioned
) -> None:
    sqs = clients("sqs")
    name = resolver.physical_name(logical_id)
    if _truthy(props.get("FifoQueue", False)) and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: _attribute(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    resolver.register(logical_id, ref=url, Arn=arn, QueueUrl=url, QueueName=name)
    done.queues[logical_id] = url


def _schedule_group(
    resolver: Resolver, clients: AwsClients, logical_id: str, props: dict[str, Any], done: Provisioned
) -> None:
    name = resolver.physical_name(logical_id)
    arn = clients("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    resolver.register(logical_id, ref=name, Arn=arn)
    done.schedule_groups[logical_id] = name


def _email_identity(
    resolver: Resolver, clients: AwsClients, logical_id: str, props: dict[str, Any], done: Provisioned
) -> None:
    identity = str(props["EmailIdentity"])
    ses = clients("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    resolver.register(logical_id, ref=identity)
    done.email_identities[logical_id] = identity


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
