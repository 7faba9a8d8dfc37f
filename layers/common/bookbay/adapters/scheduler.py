"""One-time EventBridge Scheduler schedules that invoke a Lambda with a JSON payload."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from bookbay.adapters import aws_client


@dataclass(frozen=True)
class ScheduleTarget:
    group: str
    role_arn: str
    dead_letter_arn: str | None = None


class Scheduler(Protocol):
    def schedule_once(self, name: str, at: datetime, target_arn: str, payload: dict[str, Any]) -> None:
        """Create or replace the one-time schedule ``name`` firing at ``at`` (aware datetime)."""
        ...

    def delete(self, name: str) -> None:
        """Delete the schedule if it exists."""
        ...


def at_expression(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("schedule times must be timezone-aware")
    return f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


class EventBridgeScheduler:
    def __init__(self, target: ScheduleTarget, client: Any | None = None) -> None:
        self._given_client = client
        self._target = target

    @cached_property
    def _client(self) -> Any:
        """The given client, or boto3's, made on the first call (not at cold start)."""
        return self._given_client if self._given_client is not None else aws_client("scheduler")

    def schedule_once(self, name: str, at: datetime, target_arn: str, payload: dict[str, Any]) -> None:
        target: dict[str, Any] = {
            "Arn": target_arn,
            "RoleArn": self._target.role_arn,
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86400},
        }
        if self._target.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self._target.dead_letter_arn}
        request = {
            "Name": name,
            "GroupName": self._target.group,
            "ScheduleExpression": at_expression(at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": target,
        }
        try:
            self._client.create_schedule(**request)
        except self._client.exceptions.ConflictException:
            self._client.update_schedule(**request)

    def delete(self, name: str) -> None:
        try:
            self._client.delete_schedule(Name=name, GroupName=self._target.group)
        except self._client.exceptions.ResourceNotFoundException:
            return


@dataclass
class InMemoryScheduler:
    schedules: dict[str, tuple[datetime, str, dict[str, Any]]] = field(default_factory=dict)

    def schedule_once(self, name: str, at: datetime, target_arn: str, payload: dict[str, Any]) -> None:
        self.schedules[name] = (at, target_arn, payload)

    def delete(self, name: str) -> None:
        self.schedules.pop(name, None)
