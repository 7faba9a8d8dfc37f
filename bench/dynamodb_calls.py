"""DynamoDB round trips per request, cold (import + first request) and warm, and where a warm
request's time goes: the handler's own CPU time and the time inside AWS calls.

    .venv/bin/python bench/dynamodb_calls.py [--check] [--runs 10] [--json FILE]

Each sample request runs in a fresh interpreter: moto (in process) gets the template's tables and
signing secret, the demo shop (ops/shops/demo.yaml, as it is: codes before booking) is loaded with
the ops loader's repository, then the function's handler is imported with its template
environment and invoked: once cold, then ``--runs`` times warm. The hot paths (bench/hot_paths.py:
booking, free times, code send, code check, the customer's manage-link page) get a fresh but
equivalent request each time (another customer and slot, another phone...), so the warm caches
count and idempotency replays don't; the other samples get their sample event from events/ again.

Every AWS call any botocore client makes (PynamoDB's and Powertools' included) goes through a
wrapped ``BaseClient._make_api_call``: the DynamoDB operations are counted (the set-up's own are
not), and the thread CPU time and wall time inside the calls are summed. Per warm request:

  handler CPU   the handler's thread CPU time (``time.thread_time``) minus the CPU time inside
                AWS calls: routing, validation, the domain, PynamoDB, JSON, logs;
  AWS           wall time inside AWS calls (in-process moto: botocore and moto's own work);

both medians over the warm runs; round trips are the most any warm run took. ``--check`` exits 1
when a warm request takes more round trips than its limit or any request makes a Scan (the
over-limit ones are listed call by call, with where in the layer each was made from).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: reach scripts/, bench/

from bench.hot_paths import HOT_PATHS, Meter, Sample, Setup, invoke, requests_of
from scripts.openapi import BASE_ENV, LAYER, ROOT, function_environments, load_template

EVENTS = ROOT / "events"
DEMO_SHOP = ROOT / "ops" / "shops" / "demo.yaml"
REGION = "us-east-1"
SAMPLE_USER_POOL = "us-east-1_17f7286268"  # what template.yaml's !Ref StaffUserPool is locally
WARM_RUNS = 10

SAMPLES = [
    Sample("GET /v1/shop", "catalog", "catalog_get_shop"),
    Sample("GET /v1/locations?near=78701", "catalog", "catalog_locations_near", {"near": "78701"}),
    Sample("GET /v1/locations/<id>", "catalog", "catalog_get_location"),
    Sample("GET /v1/admin/settings", "admin_settings", "admin_settings_get"),
    *HOT_PATHS,
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


def create_secrets(template: dict[str, Any]) -> dict[str, str]:
    """Every AWS::SecretsManager::Secret of the template (a constant value). Logical id -> ARN."""
    import boto3

    secrets = boto3.client("secretsmanager", region_name=REGION)
    arns: dict[str, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::SecretsManager::Secret":
            created = secrets.create_secret(
                Name=f"bench-{logical_id}", SecretString="bench-signing-key-0123456789abcdef"
            )
            arns[logical_id] = created["ARN"]
    return arns


def load_function(sample: Sample) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"bench_fn_{sample.function}", ROOT / "functions" / sample.function / "app.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import functions/{sample.function}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(sample: Sample, runs: int) -> dict[str, Any]:
    """In this (fresh) interpreter: set up moto and the demo shop, then measure the handler."""
    from botocore.client import BaseClient
    from moto import mock_aws

    meter = Meter()
    BaseClient._make_api_call = meter.wrap(BaseClient._make_api_call)
    template = load_template()
    with mock_aws():
        # The sample events' staff tokens are the local stack's user pool's (their iss names it).
        refs = {**create_tables(template), **create_secrets(template), "StaffUserPool": SAMPLE_USER_POOL}
        environment = {**BASE_ENV, **function_environments(template, refs=refs).get(sample.function, {})}
        os.environ.update(environment)

        from bookbay.repositories.catalog import CatalogRepository
        from bookbay.shopfile import read_shop_file

        CatalogRepository(environment["TABLE_NAME"], REGION).upsert(read_shop_file(DEMO_SHOP))
        meter.reset()  # the set-up's calls are not the handler's
        # cold: the import and the first request
        module = load_function(sample)
        imported = list(meter.operations)
        make = requests_of(sample, Setup(module, environment))
        invocations = []
        for n in range(runs + 2):  # cold, the warm runs, one more warm run traced
            event = make(n)  # its set-up's calls are not counted: invoke() resets the meter
            meter.trace = n == runs + 1
            invocations.append(invoke(module, event, FakeContext(), meter))
    cold, warm, traced = invocations[0], invocations[1:-1], invocations[-1]
    return {
        "request": sample.request,
        "function": sample.function,
        "limit": sample.limit,
        "expected_status": sample.status,
        "status": [i.status for i in invocations],
        "cold": [*imported, *cold.operations],
        "warm": [i.operations for i in warm],
        "warm_traced": list(zip(traced.operations, traced.paths, strict=True)),
        "other_aws_cold": cold.others,
        "other_aws_warm": sorted({o for i in warm for o in i.others}),
        "handler_cpu_ms": [round(i.handler_cpu_ms, 3) for i in warm],
        "aws_ms": [round(i.aws_ms, 3) for i in warm],
        "aws_cpu_ms": [round(i.aws_cpu_ms, 3) for i in warm],
    }


# ------------------------------------------------------------------------------ in the parent
def measure(sample: Sample, runs: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "COVERAGE_"))}
    env.update(BASE_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(LAYER), str(ROOT)])
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        result = subprocess.run(
            [sys.executable, __file__, "--one", sample.request, "--runs", str(runs), "--out", out.name],
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


def describe(operations: list[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(Counter(operations).items())) or "-"


def problems(row: dict[str, Any]) -> list[str]:
    """What is wrong with a measured request: an error, an answer not its own, a Scan, over its limit."""
    if "error" in row:
        return [f"error: {row['error']}"]
    found = []
    expected = row["expected_status"]
    if any(s is None or s >= 500 or (expected is not None and s != expected) for s in row["status"]):
        found.append(f"answered {'/'.join(map(str, row['status']))}, not {expected or 'a success'}")
    scans = row["cold"].count("Scan") + sum(w.count("Scan") for w in row["warm"])
    if scans:
        found.append(f"{scans} Scan")
    worst = max(len(w) for w in row["warm"])
    if row["limit"] is not None and worst > row["limit"]:
        found.append(f"{worst} warm round trips, limit {row['limit']}")
    return found


def print_table(rows: list[dict[str, Any]], runs: int) -> None:
    print(
        "DynamoDB round trips and time per request (moto in process; demo shop; cold = import + first "
        f"request, warm = the most of {runs} fresh equivalent requests; ms = medians of the warm ones)"
    )
    print(
        f"{'request':<30} {'function':<15} {'cold':>4} {'warm':>4} {'limit':>5} {'Scan':>4} "
        f"{'handler CPU ms':>14} {'AWS ms':>7}  {'verdict':<7} warm calls"
    )
    for row in rows:
        if "error" in row:
            print(f"{row['request']:<30} {row['function']:<15} error: {row['error']}")
            continue
        scans = row["cold"].count("Scan") + sum(w.count("Scan") for w in row["warm"])
        worst = max(row["warm"], key=len)
        limit = "-" if row["limit"] is None else str(row["limit"])
        verdict = "ok" if not problems(row) else "OVER" if row["limit"] is not None else "FAIL"
        print(
            f"{row['request']:<30} {row['function']:<15} {len(row['cold']):>4} {len(worst):>4} {limit:>5} "
            f"{scans:>4} {statistics.median(row['handler_cpu_ms']):>14.2f} "
            f"{statistics.median(row['aws_ms']):>7.2f}  {verdict:<7} {describe(worst)}"
        )


def print_failures(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        found = problems(row)
        if not found:
            continue
        print(f"\n{row['request']} ({row['function']}): {'; '.join(found)}")
        for index, (operation, path) in enumerate(row.get("warm_traced", []), 1):
            print(f"  {index}. {operation:<19} {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=WARM_RUNS, help="warm requests per sample (default 10)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a request is over its limit or makes a Scan"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    if args.one:  # the child
        sample = next(s for s in SAMPLES if s.request == args.one)
        args.out.write_text(json.dumps(run_one(sample, args.runs)), encoding="utf-8")
        return 0

    rows = [measure(sample, args.runs) for sample in SAMPLES]
    print_table(rows, args.runs)
    print_failures(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if any("error" in row for row in rows):
        return 1
    failed = [row["request"] for row in rows if problems(row)]
    if args.check:
        print(f"\n--check: {'FAILED: ' + ', '.join(failed) if failed else 'every limit holds, no Scan'}")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
