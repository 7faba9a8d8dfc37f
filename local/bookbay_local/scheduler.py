"""The local EventBridge Scheduler: fires one-time ``at(...)`` schedules kept in moto, and the
template's schedule rules (function events of ``Type: Schedule``, ``rate(...)``).

A schedule is due when its ``at()`` time, read in its ScheduleExpressionTimezone, is at or before
the time asked for. Firing invokes the template's function its target ARN names, with the
target's Input (the scheduler's context placeholders substituted); then a schedule with
ActionAfterCompletion DELETE is deleted, any other is remembered so it does not fire twice (until
it is updated). A failed invocation goes to the target's dead-letter queue when it has one.

A rule (EventBridge, not Scheduler: it does not depend on the schedule group) fires with an
EventBridge "Scheduled Event" whose ``time`` is the time asked for, when that is at least its
rate after it last fired by the real clock: about once per rate in real time, and once on every
``run_due`` that looks ahead (so ``/_local/scheduler/run`` with a later ``until`` runs the
outbox sweep as if that time had come). Their results are ``rules_fired`` of the answer.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookbay_local.functions import FunctionRegistry
from bookbay_local.logs import log_line

_AT: Final = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE: Final = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS: Final = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """The period of a ``rate(N unit)`` expression in seconds (None: another expression)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass
class Rule:
    """A function event of Type Schedule: a rate rule targeting that function."""

    function_id: str
    event_name: str
    period_seconds: int
    next_fire: datetime  # by the real clock


@dataclass(frozen=True)
class Fired:
    name: str
    group: str
    target_function: str | None
    scheduled_time: str
    result: Any = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "group": self.group,
            "target_function": self.target_function,
            "scheduled_time": self.scheduled_time,
        }
        if self.error is None:
            out["result"] = self.result
        else:
            out["error"] = self.error
        return out


def at_time(expression: str, timezone: str | None) -> datetime | None:
    """When an ``at(yyyy-mm-ddThh:mm:ss)`` expression fires (aware), or None for other expressions."""
    match = _AT.match(expression.strip())
    if match is None:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


def scheduler_time(moment: datetime) -> str:
    """The format EventBridge Scheduler substitutes for ``<aws.scheduler.scheduled-time>``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalScheduler:
    def __init__(
        self,
        scheduler_client: Any,
        sqs_client: Any,
        functions: FunctionRegistry,
        *,
        log: TextIO | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._scheduler = scheduler_client
        self._sqs = sqs_client
        self._functions = functions
        self._log = log
        self._clock = clock
        self._fired: set[tuple[str, str, str]] = set()
        self._rules = self._read_rules()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ rules
    def _read_rules(self) -> list[Rule]:
        rules: list[Rule] = []
        started = self._clock()
        for spec in self._functions.specs:
            for event_name, event in spec.events.items():
                props = event.get("Properties") or {}
                if event.get("Type") != "Schedule" or str(props.get("Enabled", True)).lower() == "false":
                    continue
                period = rate_seconds(str(props.get("Schedule", "")))
                if period is not None:
                    first = started + timedelta(seconds=period)
                    rules.append(Rule(spec.logical_id, event_name, period, first))
        return rules

    def run_rules(self, until: datetime) -> list[Fired]:
        """Fire the rules due by ``until`` (see the module docstring)."""
        fired: list[Fired] = []
        for rule in self._rules:
            if until < rule.next_fire:
                continue
            rule.next_fire = self._clock() + timedelta(seconds=rule.period_seconds)
            name = f"{rule.function_id}-{rule.event_name}"
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": scheduler_time(until),
                "region": "us-east-1",
                "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{name}"],
                "detail": {},
            }
            try:
                result = self._functions.invoke(rule.function_id, event)
                fired.append(Fired(name, "rules", rule.function_id, scheduler_time(until), result=result))
            except Exception as exc:  # reported in the answer and the log
                error = f"{type(exc).__name__}: {exc}"
                fired.append(Fired(name, "rules", rule.function_id, scheduler_time(until), error=error))
            if self._log is not None:
                outcome = "ok" if fired[-1].error is None else f"failed: {fired[-1].error}"
                log_line(self._log, f"[scheduler] rule {name} ({scheduler_time(until)}): {outcome}")
        return fired

    # ------------------------------------------------------------------ firing
    def run_due(self, until: datetime) -> list[Fired]:
        """Fire every enabled schedule due at or before ``until`` (aware), earliest first."""
        if until.tzinfo is None:
            raise ValueError("until must carry a UTC offset")
        with self._lock:
            due: list[tuple[datetime, dict[str, Any]]] = []
            for schedule in self._schedules():
                when = at_time(
                    str(schedule.get("ScheduleExpression", "")), schedule.get("ScheduleExpressionTimezone")
                )
                if when is None or when > until or schedule.get("State", "ENABLED") != "ENABLED":
                    continue
                if _fired_key(schedule) not in self._fired:
                    due.append((when, schedule))
            due.sort(key=lambda item: (item[0], str(item[1]["Name"])))
            return [self._fire(schedule, when) for when, schedule in due]

    def _schedules(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self._scheduler.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                try:
                    out.append(
                        self._scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
                    )
                except self._scheduler.exceptions.ResourceNotFoundException:
                    continue  # deleted meanwhile
        return out

    def _fire(self, schedule: dict[str, Any], when: datetime) -> Fired:
        name, group = str(schedule["Name"]), str(schedule.get("GroupName", "default"))
        target = schedule.get("Target") or {}
        spec = self._functions.by_arn(str(target.get("Arn", "")))
        scheduled = scheduler_time(when)
        payload = _input(target.get("Input"), schedule, scheduled)
        fired: Fired
        if spec is None:
            fired = Fired(
                name,
                group,
                None,
                scheduled,
                error=f"target {target.get('Arn')!r} is not a function of the template",
            )
        else:
            try:
                fired = Fired(
                    name,
                    group,
                    spec.logical_id,
                    scheduled,
                    result=self._functions.invoke(spec.logical_id, payload),
                )
            except Exception as exc:  # reported in the answer and the log
                fired = Fired(name, group, spec.logical_id, scheduled, error=f"{type(exc).__name__}: {exc}")
        if fired.error is not None:
            self._dead_letter(target, payload, fired)
        self._complete(schedule)
        if self._log is not None:
            outcome = "ok" if fired.error is None else f"failed: {fired.error}"
            log_line(
                self._log,
                f"[scheduler] fired {group}/{name} ({scheduled}) -> {fired.target_function}: {outcome}",
            )
        return fired

    def _complete(self, schedule: dict[str, Any]) -> None:
        if schedule.get("ActionAfterCompletion") == "DELETE":
            try:
                self._scheduler.delete_schedule(
                    Name=schedule["Name"], GroupName=schedule.get("GroupName", "default")
                )
                return
            except self._scheduler.exceptions.ResourceNotFoundException:
                return  # the target deleted it itself
        self._fired.add(_fired_key(schedule))

    def _dead_letter(self, target: dict[str, Any], payload: Any, fired: Fired) -> None:
        arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not arn:
            return
        queue_url = self._sqs.get_queue_url(QueueName=str(arn).rsplit(":", 1)[-1])["QueueUrl"]
        self._sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(payload),
            MessageAttributes={
                "ERROR_CODE": {"DataType": "String", "StringValue": "TargetInvocationFailed"},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": (fired.error or "")[:1000]},
                "EXECUTION_ID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
                "RETRY_ATTEMPTS": {"DataType": "String", "StringValue": "0"},
            },
        )

    # ------------------------------------------------------------------ the clock
    def start(self, interval_seconds: float = 5.0) -> None:
        """Fire due schedules against the real clock, every ``interval_seconds``."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_seconds,), name="bookbay-local-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                now = self._clock()
                self.run_rules(now)
                self.run_due(now)
            except Exception as exc:  # keep ticking (moto may be shutting down)
                if self._log is not None and not self._stop.is_set():
                    log_line(self._log, f"[scheduler] tick failed: {type(exc).__name__}: {exc}")


def _fired_key(schedule: dict[str, Any]) -> tuple[str, str, str]:
    return (
        str(schedule.get("Arn")),
        str(schedule.get("ScheduleExpression")),
        str(schedule.get("LastModificationDate")),
    )


def _input(raw: Any, schedule: dict[str, Any], scheduled: str) -> Any:
    """The target's Input with the context placeholders substituted (as text, like the service)."""
    if raw is None:
        return {}
    text = (
        str(raw)
        .replace("<aws.scheduler.scheduled-time>", scheduled)
        .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
        .replace("<aws.scheduler.attempt-number>", "1")
        .replace("<aws.scheduler.schedule-arn>", str(schedule.get("Arn", "")))
    )
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
