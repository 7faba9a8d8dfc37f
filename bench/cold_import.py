"""Cold import time of every function in template.yaml, as a ratio to a bare Powertools handler.

    .venv/bin/python bench/cold_import.py [--samples 7]

Each sample is a fresh interpreter that imports the handler module the way Lambda does
(function folder and the layer on the path, the function's environment from the template) and
reports how long the import took; the figure is the median. The baseline, measured in the same
run the same way, is a handler module that imports only APIGatewayRestResolver and boto3 and
builds a resolver with one route and a boto3 client. A first, unrecorded run per module writes
the bytecode caches. No AWS call is made: importing builds clients but calls nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: reach scripts/

from scripts.openapi import BASE_ENV, LAYER, ROOT, function_environments, load_template

BASELINE_MODULE = '''\
"""Baseline: the least a Powertools REST handler with a boto3 client imports."""
import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
dynamodb = boto3.client("dynamodb")


@app.get("/ping")
def ping() -> dict:
    return {"ok": True}


def lambda_handler(event, context):
    return app.resolve(event, context)
'''

# Runs in the fresh interpreter: import the handler module `app` and print how long it took.
PROBE = """\
import json, sys, time
started = time.perf_counter()
import app
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


@dataclass
class Function:
    logical_id: str
    folder: Path
    module: str
    environment: dict[str, str]


def template_functions() -> list[Function]:
    template = load_template()
    environments = function_environments(template)
    found: list[Function] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        folder = ROOT / str(properties.get("CodeUri", "")).rstrip("/")
        module = str(properties.get("Handler", "app.lambda_handler")).rsplit(".", 1)[0]
        found.append(Function(logical_id, folder, module, environments.get(folder.name, {})))
    return found


def sample(folder: Path, module: str, environment: dict[str, str]) -> float:
    """Seconds one fresh interpreter takes to import ``module`` from ``folder``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON", "COVERAGE_"))
    }
    env.update(BASE_ENV)
    env.update(environment)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(LAYER)])
    probe = PROBE.replace("import app", f"import {module}")
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
    seconds: float = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def measure(folder: Path, module: str, environment: dict[str, str], samples: int) -> list[float]:
    sample(folder, module, environment)  # writes __pycache__; not recorded
    return [sample(folder, module, environment) for _ in range(samples)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=7, help="fresh interpreters per module (default 7)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bookbay-bench-") as tmp:
        baseline_dir = Path(tmp)
        (baseline_dir / "app.py").write_text(BASELINE_MODULE, encoding="utf-8")
        baseline = statistics.median(measure(baseline_dir, "app", {}, args.samples))

    rows: list[dict[str, Any]] = []
    for function in template_functions():
        try:
            times = measure(function.folder, function.module, function.environment, args.samples)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            rows.append({"function": function.logical_id, "error": str(exc)})
            continue
        median = statistics.median(times)
        rows.append(
            {
                "function": function.logical_id,
                "median_ms": round(median * 1000, 1),
                "ratio": round(median / baseline, 2),
                "min_ms": round(min(times) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
            }
        )

    print(
        f"Cold import, median of {args.samples} fresh interpreters "
        f"(baseline: Powertools resolver + boto3 client = {baseline * 1000:.0f} ms)"
    )
    print(f"{'function':<28} {'median ms':>10} {'x baseline':>11} {'min-max ms':>16}")
    for row in rows:
        if "error" in row:
            print(f"{row['function']:<28} {'error: ' + row['error']}")
        else:
            spread = f"{row['min_ms']:.0f}-{row['max_ms']:.0f}"
            print(f"{row['function']:<28} {row['median_ms']:>10.0f} {row['ratio']:>11.2f} {spread:>16}")
    if args.json:
        args.json.write_text(
            json.dumps({"baseline_ms": round(baseline * 1000, 1), "functions": rows}, indent=2) + "\n",
            encoding="utf-8",
        )
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
