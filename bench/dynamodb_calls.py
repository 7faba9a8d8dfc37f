"""DynamoDB API calls per request, cold (import + first request) and warm (the same request again).

    .venv/bin/python bench/dynamodb_calls.py

Each sample request runs in a fresh interpreter: moto (in process) gets the template's tables,
the demo shop (ops/shops/demo.yaml) is loaded with the ops loader's repository, then the
function's handler is imported with its template environment and given the sample event from
events/ twice. Every DynamoDB call any botocore client makes (PynamoDB's included) is counted
by wrapping ``BaseClient._make_api_call``; the set-up's own calls are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: reach scripts/

from scripts.openapi import BASE_ENV, LAYER, ROOT, function_environments, load_template

EVENTS = ROOT / "events"
DEMO_SHOP = ROOT / "ops" / "shops" / "demo.yaml"
REGION = "us-east-1"
SAMPLE_USER_POOL = "us-east-1_17f7286268"  # what template.yaml's !Ref StaffUserPool is locally


@dataclass(frozen=True)
class Sample:
    request: str
    function: str  # folder under functions/
    event: str  # file under events/ (without .json)
    query: dict[str, str] | None = None  # replaces the event's query string


SAMPLES = [
    Sample("GET /v1/shop", "catalog", "catalog_get_shop"),
    Sample("GET /v1/locations?near=78701", "catalog", "catalog_locations_near", {"near": "78701"}),
    Sample("GET /v1/locations/<id>", "catalog", "catalog_get_location"),
    Sample("GET /v1/admin/settings", "admin_settings", "admin_settings_get"),
]


# ------------------------------------------------------------------------------ in the child
class CallCounter:
    """Counts DynamoDB operations made through any botocore client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def counting(client: Any, operation_name: str, api_params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                counter.calls[operation_name] += 1
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = counting

    def take(self) -> dict[str, int]:
        taken = dict(self.calls)
        self.calls.clear()
        return taken


class FakeContext:
    function_name = "bookbay-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bookbay-bench"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def create_tables(template: dict[str, Any]) -> dict[str, str]:
    """Every AWS::DynamoDB::Table of the template, from its own properties. Logical id -> name."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    names: dict[str, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": f"bench-{logical_id}",
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                for index in props["GlobalSecondaryIndexes"]
            ]
        dynamodb.create_table(**request)
        names[logical_id] = request["TableName"]
    return names


def run_one(sample: Sample) -> dict[str, Any]:
    """In this (fresh) interpreter: set up moto and the demo shop, then count the handler's calls."""
    import importlib.util

    from moto import mock_aws

    counter = CallCounter()
    counter.install()
    template = load_template()
    with mock_aws():
        tables = create_tables(template)
        # The sample events' staff tokens are the local stack's user pool's (their iss names it).
        refs = {**tables, "StaffUserPool": SAMPLE_USER_POOL}
        environment = {**BASE_ENV, **function_environments(template, refs=refs).get(sample.function, {})}
        os.environ.update(environment)

        from bookbay.repositories.catalog import CatalogRepository
        from bookbay.shopfile import read_shop_file

        CatalogRepository(environment["TABLE_NAME"], REGION).upsert(read_shop_file(DEMO_SHOP))
        counter.take()  # the set-up's calls are not the handler's

        event = json.loads((EVENTS / f"{sample.event}.json").read_text(encoding="utf-8"))
        if sample.query is not None:
            event["queryStringParameters"] = sample.query
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in sample.query.items()}
        spec = importlib.util.spec_from_file_location(
            f"bench_fn_{sample.function}", ROOT / "functions" / sample.function / "app.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import functions/{sample.function}/app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cold_response = module.lambda_handler(json.loads(json.dumps(event)), FakeContext())
        cold = counter.take()
        warm_response = module.lambda_handler(json.loads(json.dumps(event)), FakeContext())
        warm = counter.take()
    return {
        "request": sample.request,
        "function": sample.function,
        "cold": cold,
        "warm": warm,
        "status": [cold_response.get("statusCode"), warm_response.get("statusCode")],
    }


# ------------------------------------------------------------------------------ in the parent
def measure(sample: Sample) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "COVERAGE_"))}
    env.update(BASE_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(LAYER), str(ROOT)])
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        result = subprocess.run(
            [sys.executable, __file__, "--one", sample.request, "--out", out.name],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines()
            return {
                "request": sample.request,
                "function": sample.function,
                "error": lines[-1] if lines else "failed",
            }
        measured: dict[str, Any] = json.loads(Path(out.name).read_text(encoding="utf-8"))
        return measured


def describe(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(calls.items())) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    if args.one:  # the child
        sample = next(s for s in SAMPLES if s.request == args.one)
        args.out.write_text(json.dumps(run_one(sample)), encoding="utf-8")
        return 0

    rows = [measure(sample) for sample in SAMPLES]
    print("DynamoDB calls per request (moto; demo shop; cold = import + first request, warm = the next)")
    print(f"{'request':<32} {'function':<16} {'cold':>5} {'warm':>5}  {'status':<9} calls (cold / warm)")
    for row in rows:
        if "error" in row:
            print(f"{row['request']:<32} {row['function']:<16} error: {row['error']}")
            continue
        cold, warm = sum(row["cold"].values()), sum(row["warm"].values())
        status = "/".join(str(s) for s in row["status"])
        print(
            f"{row['request']:<32} {row['function']:<16} {cold:>5} {warm:>5}  {status:<9} "
            f"{describe(row['cold'])} / {describe(row['warm'])}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
