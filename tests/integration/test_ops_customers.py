"""The ops customer command (ops/customers.py) against moto: known-source links, Do Not Service on the
profile and every lookup item, finding a customer by phone or e-mail; exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain.ids import hash_token
from bookbay.models import keys
from bookbay.models.customers import CustomerItem, CustomerLookupItem
from bookbay.models.table import BaseItem
from bookbay.observability import logger
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.source_links import SourceLinkRepository
from ops.customers import LOCAL_TABLE, main
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack
from tests.support.appointments import seed_appointment
from tests.support.customers import CUSTOMER, EMAIL, PHONE, VEHICLE, add_customer
from tests.support.table import forget_connections

pytestmark = pytest.mark.integration


@pytest.fixture
def shop(seeded: Stack) -> Stack:
    """The demo shop with a customer on file."""
    add_customer()
    return seeded


@pytest.fixture(autouse=True)
def environment() -> Iterator[None]:
    """The command may set AWS_ENDPOINT_URL and credentials for the process (and models may cache a
    connection to that endpoint): undo that."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    forget_connections()


def run(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(list(argv))
    out, err = capfd.readouterr()
    return status, json.loads(out) if status == 0 else out, err


def test_source_link_prints_a_url_on_the_shops_base_and_stores_only_the_hash(
    shop: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    status, answer, _ = run(
        capfd, "source-link", "--customer", CUSTOMER, "--vehicle", VEHICLE.id, "--campaign", "fall-brakes",
        "--days", "30", "--base-url", PUBLIC_BASE_URL, "--table", shop.table_name,
    )  # fmt: skip
    assert status == 0
    token = answer["source_token"]
    assert answer["url"] == f"{PUBLIC_BASE_URL}/book?src={token}"
    link = SourceLinkRepository(shop.table_name, REGION).get(hash_token(token))
    assert link is not None
    assert (link.customer_id, link.vehicle_id, link.campaign, link.failures) == (
        CUSTOMER,
        VEHICLE.id,
        "fall-brakes",
        0,
    )
    assert before + timedelta(days=30) - timedelta(seconds=1) <= link.expires_at
    assert link.expires_at <= datetime.now(UTC) + timedelta(days=30)
    assert datetime.fromisoformat(answer["expires_at"]) - link.expires_at < timedelta(seconds=1)


def test_source_link_base_url_flag_wins(shop: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    status, answer, _ = run(
        capfd, "source-link", "--customer", CUSTOMER, "--base-url", "https://www.shop.example/",
        "--table", shop.table_name,
    )  # fmt: skip
    assert status == 0 and answer["url"] == f"https://www.shop.example/book?src={answer['source_token']}"
    assert SourceLinkRepository(shop.table_name, REGION).get(hash_token(answer["source_token"])) is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--customer", "nobody"], "No customer with this id"),
        (["--customer", CUSTOMER, "--vehicle", "e" * 20], "body.vehicle_id"),
        (["--customer", CUSTOMER, "--campaign", "Not A Slug"], "body.campaign"),
        (["--customer", CUSTOMER, "--days", "0"], "body.days"),
    ],
)
def test_source_link_refuses_what_it_cannot_point_at(
    shop: Stack, capfd: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, _, err = run(
        capfd, "source-link", *argv, "--base-url", PUBLIC_BASE_URL, "--table", shop.table_name
    )
    assert status == 2 and message in err
    assert not list(BaseItem.scan(BaseItem.pk.startswith("SOURCE#")))


def test_source_link_without_any_base_url_is_refused(
    seeded: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    add_customer()
    status, _, err = run(capfd, "source-link", "--customer", CUSTOMER, "--table", seeded.table_name)
    assert status == 2 and "public base URL" in err


def test_do_not_service_flips_the_profile_and_the_lookups_and_back(
    shop: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    def stored() -> tuple[bool, bool, bool]:
        profile = CustomerItem.get(keys.customer_pk(CUSTOMER), keys.PROFILE_SK, consistent_read=True)
        by_phone = CustomerLookupItem.get(keys.phone_pk(PHONE), keys.PHONE_SK, consistent_read=True)
        by_email = CustomerLookupItem.get(keys.email_pk(EMAIL), keys.EMAIL_SK, consistent_read=True)
        return (
            profile.body["do_not_service"],
            by_phone.summary["do_not_service"],
            by_email.summary["do_not_service"],
        )

    assert stored() == (False, False, False)
    status, answer, _ = run(
        capfd, "do-not-service", "--customer", CUSTOMER, "--on", "--table", shop.table_name
    )
    assert status == 0
    assert answer == {"customer_id": CUSTOMER, "do_not_service": True, "lookups_updated": 2}
    assert stored() == (True, True, True)
    status, answer, _ = run(
        capfd, "do-not-service", "--customer", CUSTOMER, "--off", "--table", shop.table_name
    )
    assert status == 0 and answer["do_not_service"] is False
    assert stored() == (False, False, False)


def test_stdout_is_only_the_answer_no_service_logs(shop: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    service_logger = logging.getLogger(logger.name)  # the standard logger the Powertools one wraps
    service_logger.addHandler(keep)
    level = logger.log_level
    try:
        status, answer, _ = run(
            capfd, "do-not-service", "--customer", CUSTOMER, "--on", "--table", shop.table_name
        )
        assert status == 0 and answer["do_not_service"] is True
        linked = run(
            capfd, "source-link", "--customer", CUSTOMER, "--base-url", PUBLIC_BASE_URL,
            "--table", shop.table_name,
        )  # fmt: skip
        assert linked[0] == 0
    finally:
        service_logger.removeHandler(keep)
    assert records == [] and logger.log_level == level


def test_do_not_service_needs_a_known_customer_and_one_of_on_off(
    shop: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capfd, "do-not-service", "--customer", "nobody", "--on", "--table", shop.table_name)
    assert status == 2 and "No customer" in err
    with pytest.raises(SystemExit) as exited:
        main(["do-not-service", "--customer", CUSTOMER, "--on", "--off", "--table", shop.table_name])
    assert exited.value.code == 2


def test_find_by_phone_or_email(shop: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    expected = {"customer_id": CUSTOMER, "first_name": "Pat"}
    assert run(capfd, "find", "--phone", "512-555-0199", "--table", shop.table_name)[:2] == (0, expected)
    assert run(capfd, "find", "--email", EMAIL.upper(), "--table", shop.table_name)[:2] == (0, expected)
    status, _, err = run(capfd, "find", "--phone", "512-555-0100", "--table", shop.table_name)
    assert status == 1 and "no customer" in err
    status, _, err = run(capfd, "find", "--phone", "not a phone", "--table", shop.table_name)
    assert status == 2 and "Not a valid phone number" in err


def test_arguments_are_checked(stack: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    for argv in (["find", "--phone", PHONE], ["find", "--table", stack.table_name], ["nothing"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    with pytest.raises(SystemExit):
        main(["source-link", "--customer", CUSTOMER, "--base-url", "ftp://x", "--table", stack.table_name])


def test_a_missing_table_or_stack_is_exit_3(stack: Stack, capfd: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capfd, "find", "--phone", PHONE, "--table", "no-such-table")
    assert status == 3 and "cannot use table 'no-such-table'" in err
    status, _, err = run(capfd, "find", "--phone", PHONE, "--stack", "no-such-stack")
    assert status == 3 and "cannot read stack" in err


def test_the_local_stacks_table_is_the_default_with_an_endpoint(stack: Stack) -> None:
    assert stack.table_name == LOCAL_TABLE


def test_an_unreachable_endpoint_is_exit_3(capfd: pytest.CaptureFixture[str]) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(key, None)
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    status, _, err = run(capfd, "find", "--phone", PHONE, "--endpoint-url", "http://127.0.0.1:9")
    assert status == 3 and LOCAL_TABLE in err


def test_index_names_puts_older_customers_in_the_name_search(
    shop: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given two customers written before the name search (no GSI3 keys), one with an appointment
    catalog = CatalogRepository(shop.table_name, REGION).catalog()
    add_customer("cust-0001", "+15125550111", "booked.before@example.com")
    seed_appointment(catalog, datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Chicago")))

    def name_keys(customer_id: str) -> tuple[str | None, str | None]:
        item = CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)
        return item.gsi3pk, item.gsi3sk

    assert name_keys("cust-0001") == (None, None)
    # When ops index the names (twice: it is safe to re-run)
    status, answer, _ = run(capfd, "index-names", "--table", shop.table_name)
    assert status == 0 and answer == {"checked": 1, "indexed": 1}
    # Then the customer with an appointment has its keys, with its lookups and profile intact
    assert name_keys("cust-0001") == ("CUSTOMERNAME#r", "returning pat#cust-0001")
    lookup = CustomerLookupItem.get(keys.phone_pk("+15125550111"), keys.PHONE_SK, consistent_read=True)
    assert lookup.customer_id == "cust-0001" and lookup.summary["first_name"] == "Pat"
    status, answer, _ = run(capfd, "index-names", "--table", shop.table_name)
    assert status == 0 and answer == {"checked": 1, "indexed": 0}
    # (A customer with no appointment is not found this way: it gets its keys on its next change.)
    assert name_keys(CUSTOMER) == (None, None)
