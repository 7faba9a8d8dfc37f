"""Cold import time of every function in template.yaml, as a ratio to a bare Powertools handler.

    .venv/bin/python bench/cold_import.py [--samples 7] [--check 1.3]

Each sample is a fresh interpreter that imports the handler module the way Lambda does and
reports how long the import took; the figure is the median. "The way Lambda does": on the path
only the function's folder, the layer's code and the packages a deployment has (the layer's
requirements and the runtime's boto3, installed once into build/cold-import/ with pip; not the
development venv, whose test tools, cryptography among them, change what libraries import), and
the environment Lambda sets plus the function's from the template, with tracing on as under
``Tracing: Active``. The baseline, measured in the same run the same way, is a
handler module that imports only APIGatewayRestResolver and boto3 and builds a resolver with one
route and a boto3 client. A first, unrecorded run per module writes the bytecode caches. No AWS
call is made: importing builds clients but calls nothing.

The samples are interleaved (one round takes one sample of every module, baseline included), so
a slow spell of a noisy machine lands on every module's figures alike rather than on a few.
``--check RATIO`` exits 1 when any function's median is over RATIO times the baseline's median,
or over its own ceiling in ALLOWANCES, which names why it is allowed more (``make test`` runs it
with the budget, 1.3).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
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

BUDGET = 1.3  # the most any function's cold import may take, as a multiple of the baseline's

# Functions allowed over BUDGET, each with its own ceiling and the reason it cannot meet the
# budget yet. The check holds them at their ceiling, so they cannot grow either; one that comes
# under BUDGET is reported, so its entry goes.
ALLOWANCES: dict[str, tuple[float, str]] = {
    "BookingFunction": (
        1.85,
        "Powertools' idempotency persistence (DynamoDBPersistenceLayer) imports boto3 (with "
        "s3transfer and multiprocessing) at module level, about 0.4x of the baseline; every "
        "booking writes its idempotency record, so the first request would load it anyway",
    ),
    "VerificationFunction": (
        1.45,
        "at the budget (1.25-1.31x in quiet runs): code sends, checks and known-source identity "
        "share one function and their services (verification, source links, notifications); "
        "the next cut is to import the known-source path on its route",
    ),
    "AdminAppointmentsFunction": (
        1.45,
        "at the budget (1.30-1.40x): the staff appointments API serves twenty routes whose "
        "services it imports; the next cut is the audit and lifecycle services per route",
    ),
}


def ceiling(function: str, budget: float) -> float:
    """The most ``function`` may take (a multiple of the baseline): the budget or its allowance."""
    allowance = ALLOWANCES.get(function)
    return max(budget, allowance[0]) if allowance else budget


# What the Lambda runtime sets before the import (besides the template's variables). Tracing is
# not disabled: in Lambda it is on (Tracing: Active), and what the tracer loads then is a cost.
LAMBDA_ENV = {
    **{key: value for key, value in BASE_ENV.items() if key != "POWERTOOLS_TRACE_DISABLED"},
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_NAME": "bookbay-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
}

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


BASELINE = "(baseline)"


PACKAGES_ROOT = ROOT / "build" / "cold-import"
LAYER_REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer")  # what the Lambda Python runtime brings


def lambda_packages() -> Path:
    """The packages a deployed function has, installed once per set of requirements."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in RUNTIME_PACKAGES]
    key = hashlib.sha256((LAYER_REQUIREMENTS.read_text(encoding="utf-8") + " ".join(pins)).encode())
    target = PACKAGES_ROOT / key.hexdigest()[:16]
    if (target / ".complete").exists():
        return target
    print(f"installing the layer's requirements and {', '.join(pins)} into {target}", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--quiet",
            "--target",
            str(target),
            "--requirement",
            str(LAYER_REQUIREMENTS),
            *pins,
        ],
        check=True,
    )
    (target / ".complete").touch()
    return target


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


def sample(folder: Path, module: str, environment: dict[str, str], packages: Path) -> float:
    """Seconds one fresh interpreter takes to import ``module`` from ``folder``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON", "COVERAGE_"))
    }
    env.update(LAMBDA_ENV)
    env.update(environment)
    env["LAMBDA_TASK_ROOT"] = str(folder)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(LAYER), str(packages)])
    probe = PROBE.replace("import app", f"import {module}")
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],  # -S: no site-packages of the venv
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


def measure_all(modules: list[Function], samples: int) -> dict[str, list[float] | str]:
    """Seconds per sample of each module (or the error it failed with), in interleaved rounds."""
    packages = lambda_packages()
    times: dict[str, list[float] | str] = {}
    for function in modules:  # writes __pycache__; not recorded
        try:
            sample(function.folder, function.module, function.environment, packages)
            times[function.logical_id] = []
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            times[function.logical_id] = str(exc)
    for _ in range(samples):
        for function in modules:
            recorded = times[function.logical_id]
            if isinstance(recorded, list):
                recorded.append(sample(function.folder, function.module, function.environment, packages))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=7, help="fresh interpreters per module (default 7)")
    parser.add_argument(
        "--check",
        type=float,
        metavar="RATIO",
        help=f"exit 1 when a function's median is over RATIO x the baseline's (the budget: {BUDGET})",
    )
    parser.add_argument("--only", action="append", help="measure only this function (logical id; repeatable)")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="also measure the app.py in this folder, as a function named after it (repeatable)",
    )
    parser.add_argument(
        "--environment-of",
        metavar="FUNCTION",
        help="give the --extra modules this template function's environment (logical id)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    every = {function.logical_id: function for function in template_functions()}
    if args.environment_of and args.environment_of not in every:
        parser.error(f"--environment-of: no function {args.environment_of} in template.yaml")
    extra_environment = every[args.environment_of].environment if args.environment_of else {}
    functions = [f for f in every.values() if not args.only or f.logical_id in args.only]
    functions += [Function(folder.name, folder.resolve(), "app", extra_environment) for folder in args.extra]
    with tempfile.TemporaryDirectory(prefix="bookbay-bench-") as tmp:
        baseline_dir = Path(tmp)
        (baseline_dir / "app.py").write_text(BASELINE_MODULE, encoding="utf-8")
        baseline_function = Function(BASELINE, baseline_dir, "app", {})
        times = measure_all([baseline_function, *functions], args.samples)
    baseline_times = times.pop(BASELINE)
    if isinstance(baseline_times, str):
        print(f"the baseline failed: {baseline_times}", file=sys.stderr)
        return 1
    baseline = statistics.median(baseline_times)

    rows: list[dict[str, Any]] = []
    for function in functions:
        recorded = times[function.logical_id]
        if isinstance(recorded, str):
            rows.append({"function": function.logical_id, "error": recorded})
            continue
        median = statistics.median(recorded)
        rows.append(
            {
                "function": function.logical_id,
                "median_ms": round(median * 1000, 1),
                "ratio": round(median / baseline, 2),
                "min_ms": round(min(recorded) * 1000, 1),
                "max_ms": round(max(recorded) * 1000, 1),
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
            over = ""
            if args.check and row["ratio"] > ceiling(row["function"], args.check):
                over = "  over budget"
            elif args.check and row["ratio"] > args.check:
                over = f"  allowed up to {ceiling(row['function'], args.check)}x: see ALLOWANCES"
            print(f"{row['function']:<28} {row['median_ms']:>10.0f} {row['ratio']:>11.2f} {spread:>16}{over}")
    if args.json:
        args.json.write_text(
            json.dumps({"baseline_ms": round(baseline * 1000, 1), "functions": rows}, indent=2) + "\n",
            encoding="utf-8",
        )
    if any("error" in row for row in rows):
        return 1
    if args.check:
        for row in rows:
            if row["function"] in ALLOWANCES and row["ratio"] <= args.check:
                print(f"{row['function']} is within {args.check}x now: remove its entry from ALLOWANCES")
        over_budget = [row for row in rows if row["ratio"] > ceiling(row["function"], args.check)]
        if over_budget:
            names = ", ".join(f"{row['function']} {row['ratio']:.2f}x" for row in over_budget)
            print(
                f"cold import over budget ({args.check}x the baseline): {names}. Find the cost with "
                "`python -X importtime`, and import what one path needs where it is used.",
                file=sys.stderr,
            )
            return 1
        print(f"every function within {args.check}x the baseline, or its allowance (ALLOWANCES)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
