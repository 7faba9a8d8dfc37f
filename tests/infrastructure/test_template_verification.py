"""template.yaml and the verification limits (issue 14): an alarm watches the shop's SMS cap, as
the verification function publishes its metric."""

from __future__ import annotations

from typing import Any

import pytest

from bookbay.observability import METRICS_NAMESPACE
from bookbay.services.verification import SMS_CAP_METRIC

pytestmark = pytest.mark.infrastructure
Template = dict[str, Any]


def test_an_alarm_watches_the_shops_sms_cap(template: Template) -> None:
    alarm = template["Resources"]["SmsCapReachedAlarm"]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm" and "Condition" not in alarm
    p = alarm["Properties"]
    # The metric as Powertools publishes it from the verification function: namespace, name, service.
    env = template["Resources"]["VerificationFunction"]["Properties"]["Environment"]["Variables"]
    assert (
        (p["Namespace"], p["MetricName"])
        == (METRICS_NAMESPACE, SMS_CAP_METRIC)
        == ("Bookbay", "SmsCapReached")
    )
    assert p["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert (p["Statistic"], p["Threshold"], p["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert p["TreatMissingData"] == "notBreaching"
    assert p["AlarmActions"] == [{"Ref": "AlarmTopic"}]
