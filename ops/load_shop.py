"""Load a shop's locations, services, hours and settings from one file into a Bookbay stack.

    .venv/bin/python ops/load_shop.py --file ops/shops/demo.yaml --stack bookbay-demo
    .venv/bin/python ops/load_shop.py --file shop.yaml --table <TableName> --endpoint-url http://127.0.0.1:5000

Validates the whole file before writing anything; re-running with the same file writes nothing.
Items in the stack that the file no longer has are reported, and deleted only with --prune.
Exit status: 0 loaded, 2 invalid file or arguments, 3 the stack or AWS could not be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "common"))  # runs as a script

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from bookbay.exceptions import ShopFileError
from bookbay.repositories.catalog import CatalogRepository
from bookbay.shopfile import read_shop_file


class LoadError(RuntimeError):
    """The stack or AWS cannot be used (exit status 3)."""


def stack_outputs(stack: str, region: str) -> dict[str, str]:
    cloudformation = boto3.client("cloudformation", region_name=region)
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise LoadError(f"cannot read stack {stack!r} in {region}: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", required=True, type=Path, help="the shop file (.yaml, .yml or .json)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--stack", help="a deployed Bookbay stack (reads its TableName output)")
    target.add_argument("--table", help="the domain table's name (local stack or a known table)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local stack's moto endpoint")
    parser.add_argument("--prune", action="store_true", help="delete locations/services not in the file")
    parser.add_argument("--dry-run", action="store_true", help="validate the file and stop")
    args = parser.parse_args(argv)

    try:
        catalog = read_shop_file(args.file)
    except ShopFileError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(
        f"{args.file}: shop {catalog.shop.id!r}, {len(catalog.locations)} locations, "
        f"{len(catalog.services)} services - valid"
    )
    if args.dry_run:
        return 0
    if not (args.stack or args.table):
        parser.error("one of --stack or --table is required (or --dry-run)")

    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    try:
        if boto3.session.Session().get_credentials() is None:
            raise LoadError("no AWS credentials found (set AWS_PROFILE or the AWS_* variables)")
        table = args.table
        if args.stack:
            outputs = stack_outputs(args.stack, args.region)
            table = outputs.get("TableName")
            if not table:
                raise LoadError(f"stack {args.stack!r} has no TableName output; is it a Bookbay stack?")
        repo = CatalogRepository(table, args.region)
        report = repo.upsert(catalog)
        if args.prune and report["not_in_file"]:
            repo.delete(report["not_in_file"])
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (PynamoDBException, ClientError, BotoCoreError) as exc:
        print(f"error: cannot write to table {table!r}: {exc}", file=sys.stderr)
        return 3

    print(f"loaded into {table}: {len(report['written'])} written, {len(report['unchanged'])} unchanged")
    for sk in report["written"]:
        print(f"  written    {sk}")
    for sk in report["not_in_file"]:
        print(f"  {'deleted' if args.prune else 'not in file (kept; --prune deletes)'}  {sk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
