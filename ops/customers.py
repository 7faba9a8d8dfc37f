"""Customer operations on a Bookbay stack: known-source links, Do Not Service, finding a customer.

    .venv/bin/python ops/customers.py source-link --customer ID [--vehicle ID] [--campaign SLUG] \\
        [--days 180] [--base-url URL] --stack bookbay-demo
    .venv/bin/python ops/customers.py do-not-service --customer ID --on|--off --stack bookbay-demo
    .venv/bin/python ops/customers.py find --phone 512-555-0100 | --email pat@example.com --stack bookbay-demo
    .venv/bin/python ops/customers.py index-names --stack bookbay-demo

Every command takes --stack (a deployed stack: its TableName output) or --table, and --region.
On the local stack (`make run`), pass the Moto endpoint it prints: --endpoint-url
http://127.0.0.1:NNNNN (the table then defaults to the local stack's; no credentials needed).

source-link prints {"url", "source_token", "expires_at"}: the url is <public base URL>/book?src=<token>
(base: --base-url, else the stack's PublicBaseUrl parameter; on the local stack pass its URL,
--base-url http://127.0.0.1:3000). Only the token's hash is stored; the printed token cannot be shown again.
do-not-service sets or clears the flag on the profile and on every phone / e-mail lookup item.
find prints {"customer_id", "first_name"} of the customer a phone number or e-mail belongs to.
index-names gives customers written before the staff name search (GET /v1/admin/customers?q=<name>)
their place in it, and prints {"checked", "indexed"}: it finds them through their appointments at
the shop's locations (no scan) and is safe to re-run.

Exit status: 0 done, 1 nobody has that phone / e-mail (find), 2 invalid arguments (an unknown
customer or vehicle included), 3 the stack or AWS could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "common"))  # runs as a script

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from bookbay.domain import verification as v
from bookbay.domain.source_links import DEFAULT_VALIDITY_DAYS
from bookbay.exceptions import DomainError
from bookbay.observability import logger
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customer_admin import CustomerAdminRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.repositories.source_links import SourceLinkRepository
from bookbay.services import customer_admin, source_links
from bookbay.services import customers as customer_service

# The domain table of the local stack (`make run`): <local stack name>-<logical id>.
LOCAL_TABLE = "bookbay-local-BookbayTable"


class StackError(RuntimeError):
    """The stack or AWS cannot be used (exit status 3)."""


@dataclass(frozen=True)
class Target:
    table: str
    region: str
    configured_base_url: str = ""  # the stack's PublicBaseUrl parameter


def describe_stack(stack: str, region: str) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise StackError(f"cannot read stack {stack!r} in {region}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    return outputs, parameters


def resolve_target(args: argparse.Namespace) -> Target:
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        if boto3.session.Session().get_credentials() is None:
            # A local (moto) endpoint takes any credentials; boto3 only needs some to sign with.
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    if boto3.session.Session().get_credentials() is None:
        raise StackError("no AWS credentials found (set AWS_PROFILE or the AWS_* variables)")
    if args.stack:
        outputs, parameters = describe_stack(args.stack, args.region)
        table = outputs.get("TableName")
        if not table:
            raise StackError(f"stack {args.stack!r} has no TableName output; is it a Bookbay stack?")
        return Target(table, args.region, parameters.get("PublicBaseUrl", ""))
    return Target(args.table or LOCAL_TABLE, args.region)


def run_source_link(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    created = source_links.create_source_link(
        CustomersRepository(target.table, target.region),
        SourceLinkRepository(target.table, target.region),
        configured_base_url=args.base_url or target.configured_base_url,
        customer_id=args.customer,
        vehicle_id=args.vehicle,
        campaign=args.campaign,
        days=args.days,
        now=datetime.now(UTC),
    )
    return {
        "url": created.url,
        "source_token": created.source_token,
        "expires_at": created.expires_at.isoformat(),
    }


def run_do_not_service(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    result = customer_service.set_do_not_service(
        CustomersRepository(target.table, target.region), args.customer, args.on
    )
    return {
        "customer_id": result.profile.id,
        "do_not_service": result.profile.do_not_service,
        "lookups_updated": result.lookups_updated,
    }


def run_find(args: argparse.Namespace, target: Target) -> dict[str, Any] | None:
    destination = (
        v.normalize_destination("sms", args.phone)
        if args.phone is not None
        else v.normalize_destination("email", args.email)
    )
    summary = CustomersRepository(target.table, target.region).find_by_contact(destination)
    if summary is None:
        return None
    return {"customer_id": summary.customer_id, "first_name": summary.first_name}


def run_index_names(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    locations = [
        location.id for location in CatalogRepository(target.table, target.region).catalog().locations
    ]
    done = customer_admin.index_names(
        CustomersRepository(target.table, target.region),
        CustomerAdminRepository(target.table, target.region),
        locations,
    )
    return {"checked": done.checked, "indexed": done.indexed}


def _base_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise argparse.ArgumentTypeError("a base URL starts with https:// (or http:// locally)")
    return value.rstrip("/")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    target = common.add_mutually_exclusive_group()
    target.add_argument(
        "--stack", help="a deployed Bookbay stack (reads its TableName output and PublicBaseUrl parameter)"
    )
    target.add_argument(
        "--table", help=f"the domain table's name (default with --endpoint-url: {LOCAL_TABLE})"
    )
    common.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    common.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local stack's Moto endpoint")

    main_parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    link = commands.add_parser("source-link", parents=[common], help="create a known-source booking link")
    link.add_argument("--customer", required=True, help="the customer's id")
    link.add_argument("--vehicle", help="one of the customer's vehicle ids (booked without choosing)")
    link.add_argument("--campaign", help="a short slug naming the campaign, e.g. spring-tires")
    link.add_argument(
        "--days", type=int, default=DEFAULT_VALIDITY_DAYS, help="days the link works (default 180)"
    )
    link.add_argument("--base-url", type=_base_url, help="the public base URL of the links")

    dns = commands.add_parser("do-not-service", parents=[common], help="set or clear Do Not Service")
    dns.add_argument("--customer", required=True, help="the customer's id")
    flag = dns.add_mutually_exclusive_group(required=True)
    flag.add_argument("--on", action="store_true", help="the customer may not book online")
    flag.add_argument("--off", action="store_true", help="the customer may book again")

    find = commands.add_parser("find", parents=[common], help="whose a phone number or e-mail is")
    contact = find.add_mutually_exclusive_group(required=True)
    contact.add_argument("--phone", help="a phone number (US numbers without +1 are fine)")
    contact.add_argument("--email", help="an e-mail address")

    commands.add_parser(
        "index-names", parents=[common], help="put customers written before the name search in it"
    )
    return main_parser


def main(argv: list[str] | None = None) -> int:
    main_parser = parser()
    args = main_parser.parse_args(argv)
    previous_level = logger.log_level
    logger.setLevel("WARNING")  # stdout is the command's JSON answer, not the services' info logs
    try:
        return execute(args, main_parser)
    finally:
        logger.setLevel(previous_level)


def execute(args: argparse.Namespace, main_parser: argparse.ArgumentParser) -> int:
    if not (args.stack or args.table or args.endpoint_url):
        main_parser.error("one of --stack, --table or --endpoint-url (the local stack) is required")
    commands = {
        "source-link": run_source_link,
        "do-not-service": run_do_not_service,
        "find": run_find,
        "index-names": run_index_names,
    }
    table = args.table or args.stack or LOCAL_TABLE
    try:
        target = resolve_target(args)
        table = target.table
        answer = commands[args.command](args, target)
    except DomainError as exc:
        problems = "".join(f"\n  {d.get('field')}: {d.get('message')}" for d in exc.details or [])
        print(f"error: {exc.message}{problems}", file=sys.stderr)
        return 2
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (PynamoDBException, ClientError, BotoCoreError) as exc:
        print(f"error: cannot use table {table!r}: {exc}", file=sys.stderr)
        return 3
    if answer is None:
        print("error: no customer has that phone number or e-mail address", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
